package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/server"
)

type recordingBackend struct{ got []server.Trigger }

func (b *recordingBackend) Trigger(_ context.Context, t server.Trigger) (any, error) {
	if t.Name == "missing" {
		return nil, fmt.Errorf("WarmCanonical %q: %w", t.Name, server.ErrNotFound)
	}
	b.got = append(b.got, t)
	return map[string]string{"result": "CONVERGED"}, nil
}

var _ = Describe("Server", func() {
	var (
		backend *recordingBackend
		ts      *httptest.Server
	)
	BeforeEach(func() {
		backend = &recordingBackend{}
		ts = httptest.NewServer(server.New(server.Options{Backend: backend, Token: "s3cret"}).Handler())
		DeferCleanup(ts.Close)
	})
	post := func(token, ctype, body string) int {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/trigger", strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
		return resp.StatusCode
	}

	It("answers /healthz", func() {
		resp, err := http.Get(ts.URL + "/healthz")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
	})

	DescribeTable("rejects bad triggers without calling the backend",
		func(token, ctype, body string, code int) {
			Expect(post(token, ctype, body)).To(Equal(code))
			Expect(backend.got).To(BeEmpty())
		},
		Entry("no token", "", "application/json", `{"action":"sweep"}`, http.StatusUnauthorized),
		Entry("wrong token", "nope", "application/json", `{"action":"sweep"}`, http.StatusForbidden),
		Entry("wrong content type", "s3cret", "text/plain", `{"action":"sweep"}`, http.StatusUnsupportedMediaType),
		Entry("malformed JSON", "s3cret", "application/json", `{"action":`, http.StatusBadRequest),
		Entry("unknown field", "s3cret", "application/json", `{"action":"sweep","x":1}`, http.StatusBadRequest),
		Entry("unknown action", "s3cret", "application/json", `{"action":"deploy"}`, http.StatusBadRequest),
		Entry("reconcile without a name", "s3cret", "application/json", `{"action":"reconcile"}`, http.StatusBadRequest),
		Entry("unknown object", "s3cret", "application/json", `{"action":"reconcile","kind":"WarmCanonical","name":"missing"}`, http.StatusNotFound),
		Entry("oversized body", "s3cret", "application/json", `{"action":"sweep","ref":"`+strings.Repeat("a", 70<<10)+`"}`, http.StatusRequestEntityTooLarge),
	)

	It("hands a good trigger to the backend", func() {
		Expect(post("s3cret", "application/json", `{"action":"reconcile","kind":"WarmCanonical","name":"app","force":true,"wait":true,"requestedAt":"t1"}`)).To(Equal(http.StatusOK))
		Expect(backend.got).To(ConsistOf(server.Trigger{Action: "reconcile", Kind: "WarmCanonical", Name: "app", Force: true, Wait: true, RequestedAt: "t1"}))
	})

	It("refuses to listen on a non-loopback address without a token", func(ctx SpecContext) {
		s := server.New(server.Options{Backend: backend})
		Expect(s.ListenAndServe(ctx, "0.0.0.0:0")).To(MatchError(ContainSubstring("needs a token")))
	})
})
