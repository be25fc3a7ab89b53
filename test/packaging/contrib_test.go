package packaging_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/packaging"
)

var _ = Describe("contrib/prometheus/alerts.yml", func() {
	It("passes promtool check rules", func(ctx SpecContext) {
		promtool := requireTool("promtool", "install Debian's prometheus (apt-get install prometheus)")
		out, err := run(ctx, root, promtool, "check", "rules", "contrib/prometheus/alerts.yml")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring("SUCCESS: 6 rules found"))
	}, NodeTimeout(time.Minute))

	It("alerts on what the issue asks, each with a for clause", func() {
		rules, err := packaging.ParseAlertRules([]byte(readFile("contrib/prometheus/alerts.yml")))
		Expect(err).NotTo(HaveOccurred())
		fors := map[string]string{}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				fors[r.Alert] = r.For
			}
		}
		Expect(fors).To(Equal(map[string]string{"CCCIDaemonDown": "5m", "CCCISweepOverdue": "5m", "CCCIWarmAppNotReady": "30m",
			"CCCIWarmAppDegraded": "5m", "CCCIWarmAppDrifted": "1h", "CCCIRecipeTestFailing": "24h"}))
	})
})

var _ = Describe("contrib/grafana/ccci.json", func() {
	It("is a dashboard whose every panel queries something", func() {
		d, err := packaging.ParseGrafanaDashboard([]byte(readFile("contrib/grafana/ccci.json")))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Title).To(Equal("ccci-controller"))
		Expect(d.Panels).NotTo(BeEmpty())
		for _, p := range d.Panels {
			Expect(p.Targets).NotTo(BeEmpty(), p.Title)
			for _, t := range p.Targets {
				Expect(t.Expr).NotTo(BeEmpty(), p.Title)
			}
		}
		Expect(packaging.MetricNames(d.Exprs())).To(ContainElements("ccci_promotions_total", "ccci_tier_duration_seconds_count",
			"ccci_tier_duration_seconds_bucket", "ccci_warm_drifted", "ccci_queue_depth"),
			"promotions, verdicts by tier, run durations, drift and queue depth")
	})
})
