package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// handleDashboard serves the HTML pages: / (one row per recipe), /recipes/{name} (its run
// history) and /runs/{id} (each tier's result and log).
func (s *Server) handleDashboard(st State) {
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		objs, err := loadObjects(r.Context(), st)
		if err != nil {
			renderError(w, r, http.StatusInternalServerError, err)
			return
		}
		render(w, r, "index.html", indexPage{Layout: newPage(r, "Recipes"), Rows: rows(objs, s.now()), Runs: runsGoing(objs)})
	})
	s.mux.HandleFunc("GET /recipes/{name}", func(w http.ResponseWriter, r *http.Request) {
		objs, err := loadObjects(r.Context(), st)
		if err != nil {
			renderError(w, r, http.StatusInternalServerError, err)
			return
		}
		name := r.PathValue("name")
		p, ok := recipe(objs, name, s.now())
		if !ok {
			renderError(w, r, http.StatusNotFound, fmt.Errorf("RecipeTest %q: %w", name, ErrNotFound))
			return
		}
		p.Layout.Root = rootOf(r)
		render(w, r, "recipe.html", p)
	})
	s.mux.HandleFunc("GET /runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, err := runPageOf(r.Context(), st, r.PathValue("id"), s.now())
		if err != nil {
			code := http.StatusInternalServerError
			if isNotFound(err) {
				code = http.StatusNotFound
			}
			renderError(w, r, code, err)
			return
		}
		p.Layout.Root = rootOf(r)
		render(w, r, "run.html", p)
	})
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

type indexPage struct {
	Layout page
	Rows   []row
	Runs   runCounts
}

// runCounts are the test runs in progress as their records say: waiting for a slot of the
// run pool (--max-runs) or running.
type runCounts struct {
	Running, Queued int
}

// runsGoing counts the runs in progress in every RecipeTest's history.
func runsGoing(objs Objects) runCounts {
	var c runCounts
	for _, rt := range objs.RecipeTests {
		for _, r := range rt.Status.Runs {
			switch {
			case r.Verdict != v1.VerdictRunning:
			case r.Queued:
				c.Queued++
			default:
				c.Running++
			}
		}
	}
	return c
}

// row is one recipe on the dashboard: its RecipeTest and the warm app it gates.
type row struct {
	Recipe    string
	Warm      string
	Stack     string
	Deployed  string
	KnownGood string
	Desired   string
	Ready     condView
	Suspended string
	Invalid   string
	LastRun   *runView
	// DependsOn is the warm app's spec.dependsOn.
	DependsOn []string
}

type condView struct {
	Status  string
	Reason  string
	Message string
	Class   string
}

type runView struct {
	ID       string
	Recipe   string
	Ref      string
	Version  string
	Trigger  string
	PR       int
	Source   string
	Verdict  string
	Class    string
	Message  string
	Started  string
	Ago      string
	Duration string
	Tiers    []tierView
	// Images are the run's resolved images: service → image → digest (or local ID).
	Images []v1.RunImage
}

type tierView struct {
	Name     string
	Result   string
	Class    string
	Reason   string
	Duration string
	Log      string
	HasLog   bool
}

// rows builds one row per RecipeTest, joined with the WarmCanonicals it gates; a
// WarmCanonical whose RecipeTest is missing gets a row of its own.
func rows(objs Objects, now time.Time) []row {
	gated := map[string][]WarmCanonicalView{}
	var orphans []WarmCanonicalView
	known := map[string]bool{}
	for _, rt := range objs.RecipeTests {
		known[rt.Name] = true
	}
	for _, wc := range objs.WarmCanonicals {
		gate := wc.Name
		if wc.Spec != nil && wc.Spec.RecipeTest != "" {
			gate = wc.Spec.RecipeTest
		}
		if known[gate] {
			gated[gate] = append(gated[gate], wc)
		} else {
			orphans = append(orphans, wc)
		}
	}
	var out []row
	for _, rt := range objs.RecipeTests {
		base := row{Recipe: rt.Name, Invalid: rt.Invalid}
		if len(rt.Status.Runs) > 0 {
			rv := toRunView(rt.Name, rt.Status.Runs[0], now)
			base.LastRun = &rv
		}
		if len(gated[rt.Name]) == 0 {
			base.Ready = readyOf(rt.Status.Conditions)
			out = append(out, base)
			continue
		}
		for _, wc := range gated[rt.Name] {
			out = append(out, withWarm(base, wc))
		}
	}
	for _, wc := range orphans {
		out = append(out, withWarm(row{}, wc))
	}
	return out
}

func withWarm(r row, wc WarmCanonicalView) row {
	r.Warm, r.Deployed, r.KnownGood, r.Desired = wc.Name, wc.Status.DeployedVersion, wc.Status.KnownGoodVersion, wc.Status.DesiredVersion
	if wc.Spec != nil {
		r.Stack, r.DependsOn = wc.Spec.Stack, wc.Spec.DependsOn
	}
	r.Ready = readyOf(wc.Status.Conditions)
	if wc.Invalid != "" {
		r.Invalid = strings.TrimSpace(r.Invalid + "\n" + wc.Invalid)
	}
	switch {
	case wc.Suspension != nil:
		r.Suspended = "suspended"
		if wc.Suspension.By != "" {
			r.Suspended += " by " + wc.Suspension.By
		}
		if wc.Suspension.Reason != "" {
			r.Suspended += ": " + wc.Suspension.Reason
		}
	case wc.Spec != nil && wc.Spec.Suspend:
		r.Suspended = "suspended by spec.suspend"
	}
	return r
}

func readyOf(cs v1.Conditions) condView {
	c, ok := cs.Get(v1.ConditionReady)
	if !ok {
		return condView{Status: "Unknown", Class: "grey"}
	}
	v := condView{Status: string(c.Status), Reason: c.Reason, Message: c.Message, Class: "grey"}
	switch c.Status {
	case v1.ConditionTrue:
		v.Class = "passed"
	case v1.ConditionFalse:
		v.Class = "failed"
		if c.Reason == v1.ReasonTesting || c.Reason == v1.ReasonPromoting || c.Reason == v1.ReasonMajorUpgradeHeld {
			v.Class = "pending"
		}
	}
	return v
}

func toRunView(recipeTest string, r v1.Run, now time.Time) runView {
	v := runView{Images: r.Images, ID: r.ID, Recipe: recipeTest, Ref: r.Ref, Version: r.Version, Trigger: string(r.Trigger), PR: r.PR,
		Source: r.SourceRepo, Verdict: string(r.Verdict), Message: r.Message,
		Started: r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")}
	switch r.Verdict {
	case v1.VerdictPassed:
		v.Class = "passed"
	case v1.VerdictFailed:
		v.Class = "failed"
	case v1.VerdictRunning:
		v.Class = "pending"
		if r.Queued {
			v.Verdict = "Queued"
		}
	default:
		v.Class = "grey"
	}
	at := r.StartedAt
	if r.FinishedAt != nil {
		at = *r.FinishedAt
		v.Duration = r.FinishedAt.Sub(r.StartedAt).Round(time.Second).String()
	}
	v.Ago = ago(now.Sub(at))
	for _, t := range r.Tiers {
		tv := tierView{Name: string(t.Name), Result: string(t.Result), Reason: t.Reason, Log: t.LogFile, HasLog: t.LogFile != "", Class: "grey"}
		if t.Duration.Duration > 0 {
			tv.Duration = t.Duration.Duration.Round(100 * time.Millisecond).String()
		}
		switch t.Result {
		case v1.ResultPassed:
			tv.Class = "passed"
		case v1.ResultFailed:
			tv.Class = "failed"
		}
		v.Tiers = append(v.Tiers, tv)
	}
	return v
}

// ago renders a duration the way a person reads a timestamp at a glance.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

type recipePage struct {
	Layout page
	Rows   []row
	Runs   []runView
}

func recipe(objs Objects, name string, now time.Time) (recipePage, bool) {
	p := recipePage{Layout: page{Title: name, Refresh: refreshSeconds}}
	found := false
	for _, r := range rows(objs, now) {
		if r.Recipe == name {
			p.Rows, found = append(p.Rows, r), true
		}
	}
	for _, rt := range objs.RecipeTests {
		if rt.Name != name {
			continue
		}
		for _, run := range rt.Status.Runs {
			p.Runs = append(p.Runs, toRunView(name, run, now))
		}
	}
	return p, found
}

type runPage struct {
	Layout page
	Run    runView
	Logs   []tierLog
}

type tierLog struct {
	tierView
	Text string
}

// maxLogOnPage bounds the log text put on a page; the API serves the whole log.
const maxLogOnPage = 256 << 10

func runPageOf(ctx context.Context, st State, id string, now time.Time) (runPage, error) {
	rt, run, err := st.Run(ctx, id)
	if err != nil {
		return runPage{}, err
	}
	p := runPage{Layout: page{Title: "Run " + id, Refresh: refreshSeconds}, Run: toRunView(rt, run, now)}
	if run.Verdict != v1.VerdictRunning {
		p.Layout.Refresh = 0
	}
	for _, t := range p.Run.Tiers {
		l := tierLog{tierView: t}
		if t.HasLog {
			data, err := st.Log(ctx, id, v1.TierName(t.Name))
			switch {
			case err != nil:
				l.Text = "(log unavailable: " + err.Error() + ")"
			case len(data) > maxLogOnPage:
				l.Text = "(… first " + fmt.Sprint(len(data)-maxLogOnPage) + " bytes cut; the API has the whole log)\n" + string(data[len(data)-maxLogOnPage:])
			default:
				l.Text = string(data)
			}
		}
		p.Logs = append(p.Logs, l)
	}
	sort.SliceStable(p.Logs, func(i, j int) bool { return p.Logs[i].Class == "failed" && p.Logs[j].Class != "failed" })
	return p, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
