package packaging

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"
)

// AlertRules is the part of a Prometheus rule file the checks read.
type AlertRules struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert string `json:"alert"`
			Expr  string `json:"expr"`
			For   string `json:"for"`
		} `json:"rules"`
	} `json:"groups"`
}

// GrafanaDashboard is the part of a Grafana dashboard the checks read.
type GrafanaDashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// ParseAlertRules parses contrib/prometheus/alerts.yml.
func ParseAlertRules(data []byte) (AlertRules, error) {
	var r AlertRules
	if err := yaml.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("parse alert rules: %w", err)
	}
	return r, nil
}

// ParseGrafanaDashboard parses contrib/grafana/ccci.json.
func ParseGrafanaDashboard(data []byte) (GrafanaDashboard, error) {
	var d GrafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("parse grafana dashboard: %w", err)
	}
	return d, nil
}

// Exprs returns every PromQL expression of the rules.
func (r AlertRules) Exprs() []string {
	var out []string
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			out = append(out, rule.Expr)
		}
	}
	return out
}

// Exprs returns every PromQL expression of the dashboard's panels.
func (d GrafanaDashboard) Exprs() []string {
	var out []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, t.Expr)
		}
	}
	return out
}

// metricName finds the series names an expression selects: ours (ccci_), the process
// collector's (process_) and Prometheus's own up. Label values in quotes are skipped.
var metricName = regexp.MustCompile(`"[^"]*"|\b((?:ccci|process)_[a-z_]+|up)\b`)

// MetricNames returns the distinct metric names the expressions use, sorted.
func MetricNames(exprs []string) []string {
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricName.FindAllStringSubmatch(e, -1) {
			if m[1] != "" {
				seen[m[1]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
