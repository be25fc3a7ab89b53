//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/notify"
	"coopcloud.tech/ccci-controller/internal/server"
)

// startSecuredDaemon starts the daemon with a token file and extra flags, on a free loopback
// port, and stops it when the spec ends.
func (w *world) startSecuredDaemon(ctx context.Context, tokenFile string, extra ...string) *daemon {
	return w.startDaemon(ctx, append([]string{"--token-file", tokenFile}, extra...)...)
}

// scrapeMetrics fetches /metrics and parses it as the Prometheus text format.
func scrapeMetrics(url string) map[string]*dto.MetricFamily {
	resp, err := http.Get(url + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	Expect(err).NotTo(HaveOccurred(), "/metrics is not Prometheus text")
	return fams
}

// sample sums the counters, gauges or histogram counts of family name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	total := 0.0
	f, ok := fams[name]
	if !ok {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
	}
	return total
}

// hook records the webhook events the daemon posts.
type hook struct {
	mu     sync.Mutex
	events []notify.Event
	badSig int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get(notify.SignatureHeader) != notify.Sign("hook-key", body) {
		h.badSig++
	}
	var e notify.Event
	if json.Unmarshal(body, &e) == nil {
		h.events = append(h.events, e)
	}
}

func (h *hook) types() []notify.EventType {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ts []notify.EventType
	for _, e := range h.events {
		ts = append(ts, e.Type)
	}
	return ts
}

var _ = Describe("the daemon's operator surface", func() {
	It("probes, measures, authenticates, acknowledges, suspends, plans and notifies", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag10)
		token := filepath.Join(w.dir, "token")
		Expect(os.WriteFile(token, []byte("it-token-"+randomID()+"\n"), 0o600)).To(Succeed())
		tok, err := os.ReadFile(token)
		Expect(err).NotTo(HaveOccurred())
		secret := filepath.Join(w.dir, "hook-key")
		Expect(os.WriteFile(secret, []byte("hook-key"), 0o600)).To(Succeed())
		h := &hook{}
		hs := httptest.NewServer(h)
		DeferCleanup(hs.Close)

		By("starting the daemon, which tests and promotes 1.0.0+1.0")
		d := w.startSecuredDaemon(ctx, token, "--notify-url", hs.URL, "--notify-secret-file", secret, "--public-url", "https://ci.example.org/ccci")
		Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Equal("True/" + v1.ReasonPromoted))

		By("answering /readyz with every check passing")
		resp, err := http.Get(d.url + "/readyz")
		Expect(err).NotTo(HaveOccurred())
		var ready struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		Expect(json.NewDecoder(resp.Body).Decode(&ready)).To(Succeed())
		resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(ready.Checks).To(Equal(map[string]string{"engine": "ok", "docker": "ok", "swarm": "ok", "state": "ok"}))

		By("exposing the run, its tier, the promotion and the deployed version in /metrics")
		Eventually(func() float64 {
			return sample(scrapeMetrics(d.url), "ccci_promotions_total", map[string]string{"name": w.name, "result": "Succeeded"})
		}).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(1.0))
		fams := scrapeMetrics(d.url)
		Expect(sample(fams, "ccci_test_runs_total", map[string]string{"recipetest": w.name, "verdict": "Passed"})).To(Equal(1.0))
		Expect(sample(fams, "ccci_tier_duration_seconds", map[string]string{"recipetest": w.name, "tier": "install"})).To(Equal(1.0))
		Expect(sample(fams, "ccci_warm_deployed_version", map[string]string{"name": w.name, "version": tag10})).To(Equal(1.0))
		Expect(sample(fams, "ccci_warm_ready", map[string]string{"name": w.name})).To(Equal(1.0))
		Expect(sample(fams, "ccci_recipetest_last_verdict", map[string]string{"recipetest": w.name, "verdict": "Passed"})).To(Equal(1.0))
		By("exporting every metric the contrib alert rules and Grafana dashboard use")
		expectContribMetrics(d.url)
		reconciles := sample(fams, "ccci_reconcile_total", map[string]string{"kind": v1.KindWarmCanonical})
		Expect(reconciles).To(BeNumerically(">", 0))

		By("refusing unauthenticated and forged triggers, acknowledging none")
		body := []byte(`{"action":"reconcile","kind":"warmcanonical","name":"` + w.name + `","requestedAt":"forged"}`)
		post := func(body []byte, headers map[string]string) int {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url+"/api/v1/trigger", bytes.NewReader(body))
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("Content-Type", "application/json")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			return resp.StatusCode
		}
		Expect(post(body, nil)).To(Equal(http.StatusUnauthorized))
		Expect(post(body, map[string]string{server.SignatureHeader: server.Sign("not-the-token", body)})).To(Equal(http.StatusForbidden))
		Expect(post(body, map[string]string{"Authorization": "Bearer not-the-token"})).To(Equal(http.StatusForbidden))

		By("taking a signed trigger and acknowledging it in status after a reconcile with no Swarm write")
		before := w.serviceIndexes(ctx)
		body = []byte(`{"action":"reconcile","kind":"warmcanonical","name":"` + w.name + `","requestedAt":"signed-1"}`)
		Expect(post(body, map[string]string{server.SignatureHeader: server.Sign(strings.TrimSpace(string(tok)), body)})).To(Equal(http.StatusAccepted))
		Eventually(func() string { return w.status().LastHandledReconcileAt }).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal("signed-1"))
		Expect(w.serviceIndexes(ctx)).To(Equal(before))
		Expect(sample(scrapeMetrics(d.url), "ccci_reconcile_total", map[string]string{"kind": v1.KindWarmCanonical})).To(BeNumerically(">", reconciles), "/metrics moved")

		By("planning through the daemon: CONVERGED")
		out, _, code := w.ccciPlain(ctx, "plan", "--server", d.url)
		Expect(code).To(Equal(0))
		Expect(planLine(out, w.name)).To(ContainElement("CONVERGED"))

		By("suspending through the daemon: the status says so at once, and the plan is SKIP")
		_, errOut, code := w.ccciPlain(ctx, "suspend", w.name, "--reason", "integration test", "--server", d.url, "--token-file", token)
		Expect(code).To(Equal(0), errOut)
		Eventually(func() string {
			c, _ := w.status().Conditions.Get(v1.ConditionReconciling)
			return c.Reason + ": " + c.Message
		}).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(100 * time.Millisecond).Should(And(HavePrefix(v1.ReasonSuspended), ContainSubstring("integration test")))
		out, _, _ = w.ccciPlain(ctx, "plan", "--server", d.url)
		Expect(planLine(out, w.name)).To(ContainElement("SKIP"))
		resp, err = http.Get(d.url + "/")
		Expect(err).NotTo(HaveOccurred())
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		Expect(html.UnescapeString(string(page))).To(And(ContainSubstring(tag10), ContainSubstring("suspended by"), ContainSubstring("integration test")))

		By("resuming: CONVERGED again")
		_, errOut, code = w.ccciPlain(ctx, "resume", w.name, "--server", d.url, "--token-file", token)
		Expect(code).To(Equal(0), errOut)
		out, _, _ = w.ccciPlain(ctx, "plan", "--server", d.url)
		Expect(planLine(out, w.name)).To(ContainElement("CONVERGED"))

		By("having posted one signed Promoted event, linking the recipe and the run that passed under --public-url")
		Eventually(h.types).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal([]notify.EventType{notify.EventPromoted}))
		h.mu.Lock()
		Expect(h.badSig).To(BeZero())
		e := h.events[0]
		h.mu.Unlock()
		Expect(e).To(And(HaveField("Name", w.name), HaveField("Version", tag10)))
		runs := w.runsOf(w.name)
		Expect(runs).To(HaveLen(1))
		Expect(e.URL).To(Equal("https://ci.example.org/ccci/recipes/" + w.name))
		Expect(e.RunURL).To(Equal("https://ci.example.org/ccci/runs/" + runs[0].ID))
		By("serving the linked pages to a request naming the public host")
		for _, link := range []string{e.URL, e.RunURL} {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url+strings.TrimPrefix(link, "https://ci.example.org/ccci"), nil)
			Expect(err).NotTo(HaveOccurred())
			req.Host = "ci.example.org"
			resp, err := http.DefaultClient.Do(req)
			Expect(err).NotTo(HaveOccurred())
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusOK), link)
			Expect(string(page)).To(ContainSubstring(w.name), link)
		}
	}, NodeTimeout(4*time.Minute))
})

// ccciPlain runs a command with only the global flags (no --label): the operator commands
// deploy nothing.
func (w *world) ccciPlain(ctx context.Context, args ...string) (string, string, int) {
	c := exec.CommandContext(ctx, ccciBinary(), append([]string{"--resources", w.resources, "--state", w.state}, args...)...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	GinkgoWriter.Printf("$ ccci %s -> %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}
