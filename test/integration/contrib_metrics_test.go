//go:build integration

package integration

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/fixtures"
	"coopcloud.tech/ccci-controller/test/packaging"
)

// alertMetrics are the metric names contrib/prometheus/alerts.yml uses. up is Prometheus's own
// series for a scrape target; every other one must be on the daemon's /metrics.
var alertMetrics = []string{"ccci_last_sweep_timestamp_seconds", "ccci_recipetest_last_verdict", "ccci_sweep_interval_seconds",
	"ccci_warm_degraded", "ccci_warm_drifted", "ccci_warm_ready", "process_start_time_seconds", "up"}

// dashboardMetrics are the metric names contrib/grafana/ccci.json uses.
var dashboardMetrics = []string{"ccci_drift_detected_total", "ccci_last_sweep_timestamp_seconds", "ccci_promotions_total", "ccci_queue_depth",
	"ccci_recipetest_last_verdict", "ccci_reconcile_duration_seconds_bucket", "ccci_reconcile_total", "ccci_test_runs_total",
	"ccci_tier_duration_seconds_bucket", "ccci_tier_duration_seconds_count", "ccci_warm_degraded", "ccci_warm_drifted", "ccci_warm_ready"}

// expectContribMetrics checks that the lists above are what the contrib files use, and finds
// each of their series on the daemon's /metrics (after a promotion, when every kind of series
// has appeared).
func expectContribMetrics(url string) {
	GinkgoHelper()
	read := func(rel string) []byte {
		data, err := os.ReadFile(filepath.Join(fixtures.RepoRoot(), rel))
		Expect(err).NotTo(HaveOccurred())
		return data
	}
	rules, err := packaging.ParseAlertRules(read("contrib/prometheus/alerts.yml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(packaging.MetricNames(rules.Exprs())).To(Equal(alertMetrics), "the alert rules' metrics")
	dash, err := packaging.ParseGrafanaDashboard(read("contrib/grafana/ccci.json"))
	Expect(err).NotTo(HaveOccurred())
	Expect(packaging.MetricNames(dash.Exprs())).To(Equal(dashboardMetrics), "the dashboard's metrics")

	resp, err := http.Get(url + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	for _, name := range append(append([]string{}, alertMetrics...), dashboardMetrics...) {
		if name == "up" {
			continue
		}
		Expect(regexp.MustCompile(`(?m)^`+name+`[{ ]`).Match(body)).To(BeTrue(), "%s is not on /metrics", name)
	}
}
