package metrics_test

import (
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/metrics"
)

var _ = Describe("the gauges read from the state", func() {
	It("export readiness, the last verdicts and the sweep interval for the alert rules", func() {
		rec := metrics.New(metrics.Options{
			DeployedVersions: func() []metrics.DeployedVersion {
				return []metrics.DeployedVersion{{Name: "up", Version: "1.0.0+1", Ready: true}, {Name: "down"}}
			},
			LastVerdicts: func() []metrics.LastVerdict {
				return []metrics.LastVerdict{{RecipeTest: "red", Verdict: "Failed"}, {RecipeTest: "new"}}
			},
			SweepInterval: 10 * time.Minute,
		})
		ts := httptest.NewServer(rec.Handler())
		DeferCleanup(ts.Close)
		fams := scrape(ts.URL)
		Expect(value(fams, "ccci_warm_ready", map[string]string{"name": "up"})).To(Equal(1.0))
		Expect(value(fams, "ccci_warm_ready", map[string]string{"name": "down"})).To(Equal(0.0), "a warm app with nothing deployed is not Ready")
		Expect(value(fams, "ccci_recipetest_last_verdict", map[string]string{"recipetest": "red", "verdict": "Failed"})).To(Equal(1.0))
		Expect(value(fams, "ccci_recipetest_last_verdict", map[string]string{"recipetest": "new"})).To(Equal(-1.0), "no run, no series")
		Expect(value(fams, "ccci_sweep_interval_seconds", nil)).To(Equal(600.0))
	})
})
