package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/server"
)

// fakeState is a State of one WarmCanonical gated by one RecipeTest with a failed run.
type fakeState struct{}

var failedRun = v1.Run{ID: "run1", Version: "1.2.0+1.2", Trigger: v1.TriggerPromotion, Verdict: v1.VerdictFailed,
	StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: `healthcheck said <script>alert(1)</script>`, LogFile: "install.log"},
		{Name: v1.TierUpgrade, Result: v1.ResultSkipped}}}

func (fakeState) WarmCanonicals(context.Context) ([]server.WarmCanonicalView, error) {
	return []server.WarmCanonicalView{{Name: "app", Spec: &v1.WarmCanonicalSpec{RecipeTest: "app", Stack: "warm_app"},
		Status: v1.WarmCanonicalStatus{DeployedVersion: "1.1.0+1.1"}}}, nil
}

func (fakeState) RecipeTests(context.Context) ([]server.RecipeTestView, error) {
	return []server.RecipeTestView{{Name: "app", Status: v1.RecipeTestStatus{Runs: []v1.Run{failedRun}}}}, nil
}

func (fakeState) Run(_ context.Context, id string) (string, v1.Run, error) {
	if id != "run1" {
		return "", v1.Run{}, fmt.Errorf("run %q: %w", id, server.ErrNotFound)
	}
	return "app", failedRun, nil
}

func (fakeState) Log(_ context.Context, id string, tier v1.TierName) ([]byte, error) {
	if id == "run1" && tier == v1.TierInstall {
		return []byte("the install log\n"), nil
	}
	return nil, fmt.Errorf("no log: %w", server.ErrNotFound)
}

// recordingSuspender records suspensions; "missing" is unknown.
type recordingSuspender struct{ calls []string }

func (s *recordingSuspender) Suspend(_ context.Context, name, reason, by string) error {
	if name == "missing" {
		return fmt.Errorf("WarmCanonical %q: %w", name, server.ErrNotFound)
	}
	s.calls = append(s.calls, "suspend "+name+" "+reason+" "+by)
	return nil
}

func (s *recordingSuspender) Resume(_ context.Context, name string) (bool, error) {
	s.calls = append(s.calls, "resume "+name)
	return true, nil
}

var _ = Describe("Read-only API and dashboard", func() {
	var ts *httptest.Server
	BeforeEach(func() {
		srv := server.New(server.Options{Backend: &recordingBackend{}, Token: "tok"})
		srv.HandleState(fakeState{})
		ts = httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
	})
	get := func(path string) (int, string, string) {
		resp, err := http.Get(ts.URL + path)
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}

	It("lists the objects with their status and runs, without a token", func() {
		code, ctype, body := get("/api/v1/objects")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(Equal("application/json"))
		var objs server.Objects
		Expect(json.Unmarshal([]byte(body), &objs)).To(Succeed())
		Expect(objs.WarmCanonicals).To(HaveLen(1))
		Expect(objs.WarmCanonicals[0].Status.DeployedVersion).To(Equal("1.1.0+1.1"))
		Expect(objs.RecipeTests[0].Status.Runs[0].ID).To(Equal("run1"))
	})

	It("returns one object, a run and a tier's log", func() {
		code, _, body := get("/api/v1/objects/wc/app")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"deployedVersion":"1.1.0+1.1"`))
		code, _, body = get("/api/v1/runs/run1")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"recipeTest":"app"`))
		code, ctype, body := get("/api/v1/runs/run1/logs/install")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(HavePrefix("text/plain"))
		Expect(body).To(Equal("the install log\n"))
	})

	It("links only within the prefix it is served under, behind a proxy serving it at a sub-path", func() {
		// The browser is at https://ci.example.org/ccci/<path>; the proxy strips /ccci.
		const prefix = "/ccci"
		hrefs := regexp.MustCompile(`<a [^>]*href="([^"]*)"`)
		for _, page := range []string{"/", "/recipes/app", "/runs/run1", "/runs/nope"} {
			_, _, body := get(page)
			at, err := url.Parse("https://ci.example.org" + prefix + page)
			Expect(err).NotTo(HaveOccurred())
			m := regexp.MustCompile(`<base href="([^"]*)">`).FindStringSubmatch(body)
			Expect(m).NotTo(BeNil(), "%s has a base URL", page)
			base, err := at.Parse(html.UnescapeString(m[1]))
			Expect(err).NotTo(HaveOccurred())
			Expect(base.Path).To(Equal(prefix+"/"), "%s: the base URL is the dashboard's root", page)
			links := hrefs.FindAllStringSubmatch(body, -1)
			Expect(len(links)).To(BeNumerically(">", 3), page)
			for _, l := range links {
				link, err := base.Parse(html.UnescapeString(l[1]))
				Expect(err).NotTo(HaveOccurred())
				Expect(link.Path).To(HavePrefix(prefix+"/"), "%s links to %s", page, l[1])
				target := strings.TrimPrefix(link.Path, prefix)
				if target == "/metrics" {
					continue // served by the daemon beside this server, not by it
				}
				code, _, _ := get(target)
				Expect(code).To(Equal(http.StatusOK), "%s links to %s (%s)", page, l[1], target)
			}
		}
	})

	DescribeTable("answers a bad read with its status and a JSON error",
		func(path string, code int, msg string) {
			got, ctype, body := get(path)
			Expect(got).To(Equal(code))
			Expect(ctype).To(Equal("application/json"))
			var e map[string]string
			Expect(json.Unmarshal([]byte(body), &e)).To(Succeed())
			Expect(e["error"]).To(ContainSubstring(msg))
		},
		Entry("unknown WarmCanonical", "/api/v1/objects/warmcanonical/nope", http.StatusNotFound, `WarmCanonical "nope"`),
		Entry("unknown RecipeTest", "/api/v1/objects/rt/nope", http.StatusNotFound, `RecipeTest "nope"`),
		Entry("unknown kind", "/api/v1/objects/deployment/app", http.StatusBadRequest, `unknown kind "deployment"`),
		Entry("unknown run", "/api/v1/runs/nope", http.StatusNotFound, `run "nope"`),
		Entry("a tier without a log", "/api/v1/runs/run1/logs/upgrade", http.StatusNotFound, "no log"),
	)

	It("renders the dashboard with the red tier's reason escaped, and 404 pages for unknown paths", func() {
		code, ctype, body := get("/")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(Equal("text/html; charset=utf-8"))
		Expect(body).To(ContainSubstring(`<meta http-equiv="refresh" content="15">`))
		Expect(body).To(ContainSubstring(`healthcheck said &lt;script&gt;alert(1)&lt;/script&gt;`))
		Expect(body).NotTo(ContainSubstring("<script>"))
		Expect(body).To(ContainSubstring(`href="recipes/app"`))
		code, _, body = get("/recipes/app")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`data-run="run1"`))
		code, _, body = get("/runs/run1")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring("the install log"))
		for _, p := range []string{"/recipes/nope", "/runs/nope", "/favicon.ico"} {
			code, _, _ = get(p)
			Expect(code).To(Equal(http.StatusNotFound), p)
		}
	})
})

var _ = Describe("Suspend and resume API", func() {
	var (
		sus *recordingSuspender
		ts  *httptest.Server
	)
	BeforeEach(func() {
		sus = &recordingSuspender{}
		srv := server.New(server.Options{Backend: &recordingBackend{}, Token: "tok", TriggerRate: 1000})
		srv.HandleSuspend(sus)
		ts = httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
	})
	do := func(path string, req request) (int, string) {
		r, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(req.body))
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
		var e map[string]any
		Expect(json.NewDecoder(resp.Body).Decode(&e)).To(Succeed())
		msg, _ := e["error"].(string)
		return resp.StatusCode, msg
	}
	body := `{"reason":"incident","by":"alice"}`

	DescribeTable("refuses a bad request, suspending nothing",
		func(path string, req request, code int, msg string) {
			got, e := do(path, req)
			Expect(got).To(Equal(code))
			Expect(e).To(ContainSubstring(msg))
			Expect(sus.calls).To(BeEmpty())
		},
		Entry("no token", "/api/v1/objects/wc/app/suspend", request{ctype: "application/json", body: body}, http.StatusUnauthorized, "missing credentials"),
		Entry("wrong token", "/api/v1/objects/wc/app/suspend", request{bearer: "x", ctype: "application/json", body: body}, http.StatusForbidden, "wrong token"),
		Entry("bad signature", "/api/v1/objects/wc/app/suspend", request{signature: server.Sign("x", []byte(body)), ctype: "application/json", body: body}, http.StatusForbidden, "wrong signature"),
		Entry("wrong content type", "/api/v1/objects/wc/app/suspend", request{bearer: "tok", ctype: "text/plain", body: body}, http.StatusUnsupportedMediaType, "application/json"),
		Entry("oversized body", "/api/v1/objects/wc/app/suspend", request{bearer: "tok", ctype: "application/json", body: `{"reason":"` + strings.Repeat("x", 70<<10) + `"}`}, http.StatusRequestEntityTooLarge, "body over"),
		Entry("malformed JSON", "/api/v1/objects/wc/app/suspend", request{bearer: "tok", ctype: "application/json", body: `{"reason":`}, http.StatusBadRequest, "malformed JSON"),
		Entry("unknown field", "/api/v1/objects/wc/app/suspend", request{bearer: "tok", ctype: "application/json", body: `{"reasons":"x"}`}, http.StatusBadRequest, "malformed JSON"),
		Entry("a RecipeTest", "/api/v1/objects/rt/app/suspend", request{bearer: "tok", ctype: "application/json", body: body}, http.StatusBadRequest, "cannot suspend"),
		Entry("unknown action", "/api/v1/objects/wc/app/delete", request{bearer: "tok", ctype: "application/json", body: body}, http.StatusNotFound, `unknown action "delete"`),
		Entry("unknown object", "/api/v1/objects/wc/missing/suspend", request{bearer: "tok", ctype: "application/json", body: body}, http.StatusNotFound, `WarmCanonical "missing"`),
	)

	It("suspends with a token or a signature, and resumes", func() {
		code, _ := do("/api/v1/objects/wc/app/suspend", request{bearer: "tok", ctype: "application/json", body: body})
		Expect(code).To(Equal(http.StatusOK))
		code, _ = do("/api/v1/objects/warmcanonical/app/resume", request{signature: server.Sign("tok", []byte(`{}`)), ctype: "application/json", body: `{}`})
		Expect(code).To(Equal(http.StatusOK))
		Expect(sus.calls).To(Equal([]string{"suspend app incident alice", "resume app"}))
	})
})

// runsState is fakeState with a second RecipeTest whose run waits for a slot while the first
// one's runs.
type runsState struct{ fakeState }

func (runsState) RecipeTests(context.Context) ([]server.RecipeTestView, error) {
	started := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	return []server.RecipeTestView{
		{Name: "app", Status: v1.RecipeTestStatus{Runs: []v1.Run{{ID: "run2", Version: "1.3.0+1.3", Verdict: v1.VerdictRunning, StartedAt: started}, failedRun}}},
		{Name: "other", Status: v1.RecipeTestStatus{Runs: []v1.Run{{ID: "run3", Version: "2.0.0+2.0", Verdict: v1.VerdictRunning, Queued: true, StartedAt: started}}}},
	}, nil
}

var _ = Describe("Dashboard with runs in progress", func() {
	It("says how many runs are running and how many wait for a slot, and which", func() {
		srv := server.New(server.Options{Backend: &recordingBackend{}, Token: "tok"})
		srv.HandleState(runsState{})
		ts := httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
		resp, err := http.Get(ts.URL + "/")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(body)).To(ContainSubstring(`data-running="1" data-queued="1">Test runs: 1 running, 1 queued</p>`))
		Expect(string(body)).To(MatchRegexp(`data-recipe="app"[\s\S]*data-verdict="Running">Running</span> <code>1.3.0&#43;1.3</code>`))
		Expect(string(body)).To(MatchRegexp(`data-recipe="other"[\s\S]*data-verdict="Queued">Queued</span> <code>2.0.0&#43;2.0</code>`))
	})
})
