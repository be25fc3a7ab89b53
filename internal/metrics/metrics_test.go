package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/metrics"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/reconcile"
)

// scrape fetches url and parses it as the Prometheus text format.
func scrape(url string) map[string]*dto.MetricFamily {
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	Expect(err).NotTo(HaveOccurred(), "the /metrics answer is not Prometheus text")
	return fams
}

// value returns the value of the sample of family name whose labels include want, or -1.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

var _ = Describe("Recorder", func() {
	var (
		rec *metrics.Recorder
		ts  *httptest.Server
	)
	BeforeEach(func() {
		rec = metrics.New(metrics.Options{DeployedVersions: func() []metrics.DeployedVersion {
			return []metrics.DeployedVersion{{Name: "app", Stack: "warm_app", Version: "1.1.0+1.1"}, {Name: "idle", Stack: "warm_idle"}}
		}})
		ts = httptest.NewServer(rec.Handler())
		DeferCleanup(ts.Close)
	})

	Context("when the engine reconciles", func() {
		It("counts reconciles by kind and result, retries and their durations", func(ctx SpecContext) {
			before := scrape(ts.URL)
			Expect(value(before, "ccci_reconcile_total", map[string]string{"kind": "WarmCanonical", "result": "success"})).To(Equal(-1.0))

			By("running a manager whose reconciler succeeds once and fails once")
			m := reconcile.NewManager(reconcile.Options{Metrics: rec, Backoff: reconcile.Backoff{Base: time.Hour, Max: time.Hour}})
			m.Register(v1.KindWarmCanonical, reconcile.Func(func(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
				if req.Name == "bad" {
					return reconcile.Result{}, errors.New("daemon unreachable")
				}
				return reconcile.Result{}, nil
			}))
			mctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- m.Start(mctx) }()
			DeferCleanup(func() { cancel(); <-done })
			m.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "good"})
			m.Enqueue(reconcile.Request{Kind: v1.KindWarmCanonical, Name: "bad"})

			By("scraping until the counters moved")
			Eventually(func() float64 {
				return value(scrape(ts.URL), "ccci_reconcile_total", map[string]string{"kind": "WarmCanonical", "result": "success"})
			}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Equal(1.0))
			Eventually(func() float64 {
				return value(scrape(ts.URL), "ccci_reconcile_retries_total", map[string]string{"kind": "WarmCanonical"})
			}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Equal(1.0))
			after := scrape(ts.URL)
			Expect(value(after, "ccci_reconcile_total", map[string]string{"kind": "WarmCanonical", "result": "error"})).To(Equal(1.0))
			Expect(value(after, "ccci_reconcile_duration_seconds", map[string]string{"kind": "WarmCanonical", "result": "success"})).To(Equal(1.0))
			Expect(after).To(HaveKey("ccci_queue_depth"))
		}, NodeTimeout(10*time.Second))
	})

	Context("when the controllers write runs and promotions to the state directory", func() {
		It("counts each finished run once, with its tiers, and each finished promotion once", func() {
			st, err := store.Open(GinkgoT().TempDir())
			Expect(err).NotTo(HaveOccurred())
			s := metrics.WrapStore(st, rec)
			start := time.Now().UTC()
			run := v1.Run{ID: "r1", Version: "1.2.0+1.2", Trigger: v1.TriggerPromotion, StartedAt: start, Verdict: v1.VerdictRunning}

			By("writing the run while it runs: nothing counted")
			Expect(s.PutRun("app", "r1", run)).To(Succeed())
			Expect(value(scrape(ts.URL), "ccci_test_runs_total", map[string]string{"recipetest": "app"})).To(Equal(-1.0))

			By("writing it finished, twice")
			fin := start.Add(time.Minute)
			run.Verdict, run.FinishedAt = v1.VerdictFailed, &fin
			run.Tiers = []v1.TierResult{
				{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: "not healthy", Duration: v1.Duration{Duration: 40 * time.Second}},
				{Name: v1.TierUpgrade, Result: v1.ResultSkipped},
			}
			Expect(s.PutRun("app", "r1", run)).To(Succeed())
			Expect(s.PutRun("app", "r1", run)).To(Succeed())
			fams := scrape(ts.URL)
			Expect(value(fams, "ccci_test_runs_total", map[string]string{"recipetest": "app", "verdict": "Failed"})).To(Equal(1.0))
			Expect(value(fams, "ccci_tier_duration_seconds", map[string]string{"recipetest": "app", "tier": "install", "result": "Failed"})).To(Equal(1.0))
			Expect(value(fams, "ccci_tier_duration_seconds", map[string]string{"tier": "upgrade"})).To(Equal(-1.0), "a skipped tier has no duration")

			By("writing a promotion history as it starts and as it succeeds")
			started := map[string]any{"to": "1.1.0+1.1", "state": "Started", "startedAt": start}
			Expect(s.Put(metrics.PromotionsKind, "app", []any{started})).To(Succeed())
			Expect(value(scrape(ts.URL), "ccci_promotions_total", map[string]string{"name": "app"})).To(Equal(-1.0))
			finished := map[string]any{"to": "1.1.0+1.1", "state": "Succeeded", "startedAt": start, "finishedAt": fin}
			Expect(s.Put(metrics.PromotionsKind, "app", []any{finished})).To(Succeed())
			Expect(s.Put(metrics.PromotionsKind, "app", []any{finished})).To(Succeed())
			Expect(value(scrape(ts.URL), "ccci_promotions_total", map[string]string{"name": "app", "result": "Succeeded"})).To(Equal(1.0))

			By("reading the stored run back unchanged")
			raws, err := s.Runs("app")
			Expect(err).NotTo(HaveOccurred())
			var got v1.Run
			Expect(json.Unmarshal(raws[0], &got)).To(Succeed())
			Expect(got.Verdict).To(Equal(v1.VerdictFailed))
		})
	})

	It("says while a warm app is drifted or degraded, and counts each drift once", func() {
		st, err := store.Open(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		s := metrics.WrapStore(st, rec)
		t0 := time.Now().UTC()
		status := func(drifted bool, since time.Time, ready v1.Condition) v1.WarmCanonicalStatus {
			d := v1.Condition{Type: v1.ConditionDrifted, Status: v1.ConditionFalse, Reason: v1.ReasonNoDrift, LastTransitionTime: since}
			if drifted {
				d.Status, d.Reason = v1.ConditionTrue, v1.ReasonSpecDrift
			}
			return v1.WarmCanonicalStatus{Conditions: v1.Conditions{ready, d}}
		}
		ok := v1.Condition{Type: v1.ConditionReady, Status: v1.ConditionTrue, Reason: v1.ReasonPromoted}
		labels := map[string]string{"name": "app"}

		By("a hand edit found, and written again by later reconciles")
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, t0, ok))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, t0, ok))).To(Succeed())
		fams := scrape(ts.URL)
		Expect(value(fams, "ccci_warm_drifted", labels)).To(Equal(1.0))
		Expect(value(fams, "ccci_drift_detected_total", labels)).To(Equal(1.0), "one drift, however many writes")

		By("corrected, then drifted again")
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, t0.Add(time.Minute), ok))).To(Succeed())
		Expect(value(scrape(ts.URL), "ccci_warm_drifted", labels)).To(Equal(0.0))
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, t0.Add(2*time.Minute), ok))).To(Succeed())
		Expect(value(scrape(ts.URL), "ccci_drift_detected_total", labels)).To(Equal(2.0))

		By("degraded")
		Expect(value(scrape(ts.URL), "ccci_warm_degraded", labels)).To(Equal(0.0))
		bad := v1.Condition{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonDegraded}
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, t0.Add(3*time.Minute), bad))).To(Succeed())
		Expect(value(scrape(ts.URL), "ccci_warm_degraded", labels)).To(Equal(1.0))
	})

	It("counts the images test runs removed and the bytes freed", func() {
		fams := scrape(ts.URL)
		Expect(value(fams, "ccci_test_images_removed_total", nil)).To(Equal(0.0))
		rec.TestImagesRemoved(2, 1500)
		rec.TestImagesRemoved(1, 500)
		fams = scrape(ts.URL)
		Expect(value(fams, "ccci_test_images_removed_total", nil)).To(Equal(3.0))
		Expect(value(fams, "ccci_test_image_bytes_freed_total", nil)).To(Equal(2000.0))
	})

	It("exposes each deployed warm version as a label and the last sweep time", func() {
		fams := scrape(ts.URL)
		Expect(value(fams, "ccci_warm_deployed_version", map[string]string{"name": "app", "stack": "warm_app", "version": "1.1.0+1.1"})).To(Equal(1.0))
		Expect(value(fams, "ccci_warm_deployed_version", map[string]string{"name": "idle"})).To(Equal(-1.0), "nothing deployed, no sample")
		Expect(value(fams, "ccci_last_sweep_timestamp_seconds", nil)).To(Equal(0.0))
		rec.SweepDone()
		Expect(value(scrape(ts.URL), "ccci_last_sweep_timestamp_seconds", nil)).To(BeNumerically("~", float64(time.Now().Unix()), 5))
	})
})
