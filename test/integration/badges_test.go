//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// A recipe's README shows its badges as images a forge fetches without a token: each must be
// an SVG a browser draws at the width it declares, with the state in its text.
var _ = Describe("Badges", Ordered, func() {
	var (
		url         string
		name        string
		browser     context.Context
		stopBrowser context.CancelFunc
	)

	BeforeAll(func() {
		name = "badge-" + randomID()
		resources, state := GinkgoT().TempDir(), GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(resources, "r.yaml"), []byte(fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %[1]s
spec:
  source:
    git: /srv/recipes/%[1]s
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: %[1]s
spec:
  version: latest
`, name)), 0o644)).To(Succeed())
		st, err := store.Open(state)
		Expect(err).NotTo(HaveOccurred())
		now := time.Now().UTC()
		Expect(st.Put(v1.KindWarmCanonical, name, v1.WarmCanonicalStatus{DeployedVersion: "1.1.0+1.1",
			Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionTrue, Reason: v1.ReasonPromoted, LastTransitionTime: now}}})).To(Succeed())
		// The newest run is a pull request's, red: the badge speaks for the recipe's own refs.
		Expect(st.PutRun(name, "aaaaaaaaaaaa", v1.Run{ID: "aaaaaaaaaaaa", Ref: "1.1.0+1.1", StartedAt: now.Add(-time.Hour), Verdict: v1.VerdictPassed})).To(Succeed())
		Expect(st.PutRun(name, "bbbbbbbbbbbb", v1.Run{ID: "bbbbbbbbbbbb", Ref: "abc", PR: 3, StartedAt: now, Verdict: v1.VerdictFailed})).To(Succeed())

		srv := server.New(server.Options{Backend: nopBackend{}, Token: "a-token-badges-do-not-need"})
		srv.HandleState(&controllers.View{Objects: &controllers.Dir{Root: resources}, Store: st})
		ts := httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
		url = ts.URL

		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumFlags(GinkgoT().TempDir())...)
		browser, stopBrowser = chromedp.NewContext(alloc)
		DeferCleanup(func() { stopBrowser(); cancelAlloc() })
		Expect(chromedp.Do(browser, chromedp.Navigate("about:blank"))).To(Succeed())
	})

	// render opens a badge in the browser and returns its declared width, its title and a PNG
	// of the drawn element.
	render := func(ctx context.Context, path string) (int, string, []byte) {
		tctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		var width int
		var title string
		var shot []byte
		Expect(chromedp.Do(tctx, chromedp.Navigate(url+path), chromedp.WaitVisible(chromedp.CSS("svg")),
			chromedp.Func(func(c context.Context, t *chromedp.Target) error {
				var err error
				if width, err = chromedp.Evaluate[int](`Number(document.documentElement.getAttribute("width"))`)(c, t); err != nil {
					return err
				}
				if title, err = chromedp.Evaluate[string](`document.querySelector("title").textContent`)(c, t); err != nil {
					return err
				}
				shot, err = chromedp.Screenshot(chromedp.CSS("svg"))(c, t)
				return err
			}))).To(Succeed())
		return width, title, shot
	}

	DescribeTable("draws the badge at the width it declares",
		func(ctx SpecContext, path string, code int, title, colour string) {
			path = strings.ReplaceAll(path, "NAME", name)
			By("answering with an SVG image and a few minutes of caching")
			resp, err := http.Get(url + path)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(code))
			Expect(resp.Header.Get("Content-Type")).To(Equal("image/svg+xml"))
			Expect(resp.Header.Get("Cache-Control")).To(Equal("max-age=300"))

			By("rendering it in headless Chromium")
			width, got, shot := render(ctx, path)
			Expect(got).To(Equal(title))
			img, err := png.Decode(bytes.NewReader(shot))
			Expect(err).NotTo(HaveOccurred())
			Expect(img.Bounds().Dx()).To(Equal(width))
			Expect(img.Bounds().Dy()).To(Equal(20))
			Expect(width).To(BeNumerically(">", 40))

			By("colouring the message part")
			c := colourAt(img, width-3, 10)
			switch colour {
			case "green":
				Expect(c[1]).To(BeNumerically(">", c[0]+80), "green: %v", c)
				Expect(c[1]).To(BeNumerically(">", c[2]+80), "green: %v", c)
			case "grey":
				Expect(c[0]).To(BeNumerically("~", c[1], 8), "grey: %v", c)
				Expect(c[1]).To(BeNumerically("~", c[2], 8), "grey: %v", c)
			}
			Expect(colourAt(img, 3, 10)).To(HaveEach(BeNumerically("<", 100)), "the label part is dark grey")

			dir := filepath.Join(fixtures.RepoRoot(), "_output")
			Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
			file := filepath.Join(dir, fmt.Sprintf("badge-%s-%d.png", filepath.Base(filepath.Dir(path)), code))
			Expect(os.WriteFile(file, shot, 0o644)).To(Succeed())
			AddReportEntry("badge", file)
		},
		Entry("a RecipeTest whose last own run passed", "/badges/recipetest/NAME.svg", http.StatusOK, "tested: passing", "green"),
		Entry("a Ready warm app", "/badges/warmcanonical/NAME.svg", http.StatusOK, "warm: 1.1.0+1.1", "green"),
		Entry("an unknown RecipeTest", "/badges/recipetest/nosuch.svg", http.StatusNotFound, "tested: not found", "grey"),
	)
})

// colourAt returns the 8-bit red, green and blue of a pixel.
func colourAt(img image.Image, x, y int) []int {
	r, g, b, _ := img.At(x, y).RGBA()
	return []int{int(r >> 8), int(g >> 8), int(b >> 8)}
}
