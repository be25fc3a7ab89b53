package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/server"
)

var _ = Describe("Badges", func() {
	var ts *httptest.Server

	BeforeEach(func() {
		// A token guards triggers; badges are read without one, like /healthz.
		srv := server.New(server.Options{Backend: &recordingBackend{}, Token: "s3cret"})
		srv.HandleState(badgeState{})
		ts = httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
	})

	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(ts.URL + path)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp, string(body)
	}

	DescribeTable("answers an SVG badge with the object's state",
		func(path string, code int, title, cache string) {
			resp, body := get(path)
			Expect(resp.StatusCode).To(Equal(code))
			Expect(resp.Header.Get("Content-Type")).To(Equal("image/svg+xml"))
			Expect(resp.Header.Get("Cache-Control")).To(Equal(cache))
			Expect(body).To(HavePrefix(`<svg xmlns="http://www.w3.org/2000/svg"`))
			Expect(body).To(ContainSubstring("<title>" + title + "</title>"))
		},
		Entry("a RecipeTest whose last run failed", "/badges/recipetest/app.svg", http.StatusOK, "tested: failing", "max-age=300"),
		Entry("a WarmCanonical deployed but not Ready", "/badges/warmcanonical/app.svg", http.StatusOK, "warm: 1.1.0+1.1 not ready", "max-age=300"),
		Entry("an unknown RecipeTest", "/badges/recipetest/nope.svg", http.StatusNotFound, "tested: not found", "max-age=300"),
		Entry("an unknown WarmCanonical", "/badges/warmcanonical/nope.svg", http.StatusNotFound, "warm: not found", "max-age=300"),
		Entry("a name without .svg", "/badges/recipetest/app", http.StatusNotFound, "tested: not found", "max-age=300"),
	)

	It("makes the badge as wide as its two parts and pins each text to its part", func() {
		_, body := get("/badges/recipetest/app.svg")
		m := regexp.MustCompile(`<svg [^>]*width="(\d+)"`).FindStringSubmatch(body)
		Expect(m).To(HaveLen(2))
		total, _ := strconv.Atoi(m[1])
		var parts []int
		for _, w := range regexp.MustCompile(`<rect (?:x="\d+" )?width="(\d+)" height="20" fill="#`).FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(w[1])
			parts = append(parts, n)
		}
		Expect(parts).To(HaveLen(2))
		Expect(parts[0] + parts[1]).To(Equal(total))
		Expect(regexp.MustCompile(`textLength="(\d+)"`).FindAllString(body, -1)).To(HaveLen(4))
	})

	It("shows a Ready warm app's version in green, escaped", func() {
		_, body := get("/badges/warmcanonical/ready.svg")
		Expect(body).To(ContainSubstring("<title>warm: 1.0.0+&lt;b&gt;</title>"))
		Expect(body).To(ContainSubstring(`fill="#4c1"`))
		Expect(body).NotTo(ContainSubstring("<b>"))
	})
})

// badgeState is fakeState with a second, Ready WarmCanonical whose version needs escaping.
type badgeState struct{ fakeState }

func (s badgeState) WarmCanonicals(ctx context.Context) ([]server.WarmCanonicalView, error) {
	wcs, err := s.fakeState.WarmCanonicals(ctx)
	ready := v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionTrue, Reason: v1.ReasonAlreadyDeployed}}
	return append(wcs, server.WarmCanonicalView{Name: "ready", Status: v1.WarmCanonicalStatus{DeployedVersion: "1.0.0+<b>", Conditions: ready}}), err
}
