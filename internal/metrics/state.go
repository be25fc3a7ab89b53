package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// LastVerdict is the verdict of a RecipeTest's newest finished run, for the
// ccci_recipetest_last_verdict gauge.
type LastVerdict struct {
	// RecipeTest is the RecipeTest's name.
	RecipeTest string
	// Verdict is Passed, Failed or Aborted; empty when it has no finished run.
	Verdict string
}

// The gauges read from the state at scrape time, so a restarted daemon reports them before
// anything changes and an alert's "for" clause survives a restart of the daemon.
var (
	readyDesc = prometheus.NewDesc(namespace+"_warm_ready",
		"1 while a warm app's Ready condition is True, else 0 (what the not-Ready alert watches).",
		[]string{"name"}, nil)
	verdictDesc = prometheus.NewDesc(namespace+"_recipetest_last_verdict",
		"Verdict of each RecipeTest's newest finished run that is not a pull request's, as a label; the value is always 1.",
		[]string{"recipetest", "verdict"}, nil)
	intervalDesc = prometheus.NewDesc(namespace+"_sweep_interval_seconds",
		"The daemon's --sweep-interval: a sweep older than twice this is overdue.",
		nil, nil)
)

// stateCollector exposes the warm apps' readiness, the RecipeTests' last verdicts and the
// sweep interval.
type stateCollector struct{ r *Recorder }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- verdictDesc
	ch <- intervalDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.r.deployed != nil {
		for _, d := range c.r.deployed() {
			ready := 0.0
			if d.Ready {
				ready = 1
			}
			ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready, d.Name)
		}
	}
	if c.r.verdicts != nil {
		for _, v := range c.r.verdicts() {
			if v.Verdict != "" {
				ch <- prometheus.MustNewConstMetric(verdictDesc, prometheus.GaugeValue, 1, v.RecipeTest, v.Verdict)
			}
		}
	}
	if c.r.sweepInterval > 0 {
		ch <- prometheus.MustNewConstMetric(intervalDesc, prometheus.GaugeValue, c.r.sweepInterval.Seconds())
	}
}
