package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/server"
)

// request is one trigger request as a client sends it.
type request struct {
	bearer    string
	signature string
	ctype     string
	body      string
}

// send posts req and returns the status and the decoded JSON error, failing if the answer is
// not JSON.
func send(url string, req request) (int, string) {
	r, err := http.NewRequest(http.MethodPost, url+"/api/v1/trigger", strings.NewReader(req.body))
	Expect(err).NotTo(HaveOccurred())
	if req.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+req.bearer)
	}
	if req.signature != "" {
		r.Header.Set(server.SignatureHeader, req.signature)
	}
	if req.ctype != "" {
		r.Header.Set("Content-Type", req.ctype)
	}
	resp, err := http.DefaultClient.Do(r)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
	var e struct {
		Error string `json:"error"`
	}
	Expect(json.NewDecoder(resp.Body).Decode(&e)).To(Succeed(), "the answer is JSON")
	return resp.StatusCode, e.Error
}

var _ = Describe("Trigger authentication", func() {
	const token = "s3cret-token"
	var (
		backend *recordingBackend
		ts      *httptest.Server
	)
	BeforeEach(func() {
		backend = &recordingBackend{}
		ts = httptest.NewServer(server.New(server.Options{Backend: backend, Token: token, TriggerRate: 1000}).Handler())
		DeferCleanup(ts.Close)
	})
	sweep := `{"action":"sweep"}`
	signed := func(body string) string { return server.Sign(token, []byte(body)) }

	DescribeTable("answers a bad request with its status and a JSON error, triggering nothing",
		func(req request, code int, msg string) {
			got, e := send(ts.URL, req)
			Expect(got).To(Equal(code))
			Expect(e).To(ContainSubstring(msg))
			Expect(backend.got).To(BeEmpty())
		},
		Entry("no credentials", request{ctype: "application/json", body: sweep}, http.StatusUnauthorized, "missing credentials"),
		Entry("wrong bearer token", request{bearer: "nope", ctype: "application/json", body: sweep}, http.StatusForbidden, "wrong token"),
		Entry("token as a prefix of the right one", request{bearer: "s3cret", ctype: "application/json", body: sweep}, http.StatusForbidden, "wrong token"),
		Entry("signature of another body", request{signature: signed(`{"action":"test"}`), ctype: "application/json", body: sweep}, http.StatusForbidden, "wrong signature"),
		Entry("signature with another key", request{signature: server.Sign("other", []byte(sweep)), ctype: "application/json", body: sweep}, http.StatusForbidden, "wrong signature"),
		Entry("signature without sha256=", request{signature: strings.TrimPrefix(signed(sweep), "sha256="), ctype: "application/json", body: sweep}, http.StatusUnauthorized, "malformed X-Signature"),
		Entry("signature not hex", request{signature: "sha256=zz", ctype: "application/json", body: sweep}, http.StatusUnauthorized, "malformed X-Signature"),
		Entry("wrong content type", request{bearer: token, ctype: "application/x-www-form-urlencoded", body: sweep}, http.StatusUnsupportedMediaType, "application/json"),
		Entry("missing content type", request{signature: signed(sweep), body: sweep}, http.StatusUnsupportedMediaType, "application/json"),
		Entry("oversized signed body", request{signature: signed(strings.Repeat(" ", 65<<10) + sweep), ctype: "application/json", body: strings.Repeat(" ", 65<<10) + sweep}, http.StatusRequestEntityTooLarge, "body over"),
		Entry("malformed JSON, signed", request{signature: signed(`{"action":`), ctype: "application/json", body: `{"action":`}, http.StatusBadRequest, "malformed JSON"),
		Entry("two documents", request{bearer: token, ctype: "application/json", body: sweep + sweep}, http.StatusBadRequest, "malformed JSON"),
		Entry("unknown action", request{bearer: token, ctype: "application/json", body: `{"action":"deploy"}`}, http.StatusBadRequest, `unknown action "deploy"`),
		Entry("unknown object", request{bearer: token, ctype: "application/json", body: `{"action":"reconcile","kind":"wc","name":"missing"}`}, http.StatusNotFound, "not found"),
		Entry("test without a name", request{bearer: token, ctype: "application/json", body: `{"action":"test","ref":"main"}`}, http.StatusBadRequest, "name is required"),
	)

	It("takes a request signed with the token instead of carrying it", func() {
		body := `{"action":"test","name":"app","ref":"abc123","pr":7,"src":"coop-cloud/app"}`
		code, _ := send(ts.URL, request{signature: signed(body), ctype: "application/json; charset=utf-8", body: body})
		Expect(code).To(Equal(http.StatusAccepted))
		Expect(backend.got).To(HaveLen(1))
		Expect(backend.got[0]).To(And(HaveField("Action", "test"), HaveField("Ref", "abc123"), HaveField("PR", 7)))
		Expect(backend.got[0].RequestedAt).NotTo(BeEmpty(), "a trigger gets a token to acknowledge")
	})

	Context("when a client triggers faster than the rate", func() {
		It("answers 429 and triggers nothing more", func() {
			limited := httptest.NewServer(server.New(server.Options{Backend: backend, Token: token, TriggerRate: 1}).Handler())
			DeferCleanup(limited.Close)
			var codes []int
			for range 4 {
				code, _ := send(limited.URL, request{bearer: token, ctype: "application/json", body: sweep})
				codes = append(codes, code)
			}
			Expect(codes).To(Equal([]int{http.StatusAccepted, http.StatusAccepted, http.StatusTooManyRequests, http.StatusTooManyRequests}))
			Expect(backend.got).To(HaveLen(2))
		})
	})
})

var _ = Describe("Readiness", func() {
	It("lists each check and answers 503 while one fails", func() {
		ready, dockerErr := false, errors.New("Cannot connect to the Docker daemon")
		srv := server.New(server.Options{Backend: &recordingBackend{}, Ready: func() bool { return ready }, Checks: []server.Check{
			{Name: "docker", Run: func(context.Context) error { return dockerErr }},
			{Name: "state", Run: func(context.Context) error { return nil }},
		}})
		ts := httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
		get := func() (int, map[string]any) {
			resp, err := http.Get(ts.URL + "/readyz")
			Expect(err).NotTo(HaveOccurred())
			defer resp.Body.Close()
			var body map[string]any
			Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
			return resp.StatusCode, body
		}
		code, body := get()
		Expect(code).To(Equal(http.StatusServiceUnavailable))
		Expect(body["checks"]).To(And(HaveKeyWithValue("docker", "Cannot connect to the Docker daemon"), HaveKeyWithValue("state", "ok"), HaveKeyWithValue("engine", "initial load not finished")))
		ready, dockerErr = true, nil
		code, body = get()
		Expect(code).To(Equal(http.StatusOK))
		Expect(body["status"]).To(Equal("ok"))
	})

	It("times a hung check out", func(ctx SpecContext) {
		srv := server.New(server.Options{Backend: &recordingBackend{}, Checks: []server.Check{
			{Name: "docker", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		}})
		ts := httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
		resp, err := http.Get(ts.URL + "/readyz")
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusServiceUnavailable))
	}, NodeTimeout(10*time.Second))
})
