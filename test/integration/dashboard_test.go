//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// chromiumFlags are the flags the dashboard specs start Chromium with: headless, no sandbox
// (CI runs as root), and nothing that reaches the network on its own.
func chromiumFlags(userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(1400, 900),
	}
}

// chromiumPath finds Debian's chromium (apt-get install chromium; .ci/run installs it).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Fail("no Chromium found on PATH: install Debian's chromium package (apt-get install -y chromium)")
	return ""
}

// dashboardRow is one row of the dashboard as the browser shows it.
type dashboardRow struct {
	Recipe    string `json:"recipe"`
	Warm      string `json:"warm"`
	Deployed  string `json:"deployed"`
	KnownGood string `json:"knownGood"`
	Desired   string `json:"desired"`
	Ready     string `json:"ready"`
	LastRun   string `json:"lastRun"`
}

// failedTier is how the browser renders a failed tier's badge and reason.
type failedTier struct {
	Tier          string `json:"tier"`
	Background    string `json:"background"`
	Reason        string `json:"reason"`
	ReasonVisible bool   `json:"reasonVisible"`
}

var _ = Describe("Dashboard", Ordered, func() {
	var (
		url         string
		green, red  string
		failReason  = "upgrade 1.1.0+1.1 → 1.2.0+1.2: service app did not turn healthy within 60s (healthcheck: /healthz answered 500)"
		browser     context.Context
		stopBrowser context.CancelFunc
	)

	BeforeAll(func() {
		green, red = "green-"+randomID(), "red-"+randomID()
		resources, state := GinkgoT().TempDir(), GinkgoT().TempDir()

		By("writing the resources of two recipes and their warm apps")
		var yaml strings.Builder
		for _, n := range []string{green, red} {
			fmt.Fprintf(&yaml, `---
apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %[1]s
spec:
  source:
    git: /srv/recipes/%[1]s
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: %[1]s
spec:
  version: latest
`, n)
		}
		Expect(os.WriteFile(filepath.Join(resources, "recipes.yaml"), []byte(yaml.String()), 0o644)).To(Succeed())

		By("writing their status and runs to the state directory")
		st, err := store.Open(state)
		Expect(err).NotTo(HaveOccurred())
		now := time.Now().UTC()
		at := func(ago time.Duration) *time.Time { t := now.Add(-ago); return &t }
		cond := func(ok bool, reason, msg string) v1.Conditions {
			s := v1.ConditionFalse
			if ok {
				s = v1.ConditionTrue
			}
			return v1.Conditions{{Type: v1.ConditionReady, Status: s, Reason: reason, Message: msg, LastTransitionTime: now}}
		}
		Expect(st.Put(v1.KindWarmCanonical, green, v1.WarmCanonicalStatus{DesiredVersion: "1.1.0+1.1", DeployedVersion: "1.1.0+1.1",
			KnownGoodVersion: "1.1.0+1.1", Conditions: cond(true, v1.ReasonPromoted, "promoted from 1.0.0+1.0 to 1.1.0+1.1")})).To(Succeed())
		Expect(st.Put(v1.KindWarmCanonical, red, v1.WarmCanonicalStatus{DesiredVersion: "1.2.0+1.2", DeployedVersion: "1.1.0+1.1",
			KnownGoodVersion: "1.1.0+1.1", FailedVersions: []string{"1.2.0+1.2"},
			Conditions: cond(false, v1.ReasonTestsFailed, "test run bbbbbbbbbbbb of 1.2.0+1.2 failed: "+failReason)})).To(Succeed())
		putRun := func(rt string, run v1.Run, logs map[v1.TierName]string) {
			dir, err := st.RunDir(rt, run.ID)
			Expect(err).NotTo(HaveOccurred())
			for i, t := range run.Tiers {
				if text, ok := logs[t.Name]; ok {
					run.Tiers[i].LogFile = string(t.Name) + ".log"
					Expect(os.WriteFile(filepath.Join(dir, run.Tiers[i].LogFile), []byte(text), 0o644)).To(Succeed())
				}
			}
			Expect(st.PutRun(rt, run.ID, run)).To(Succeed())
		}
		d := func(s int) v1.Duration { return v1.Duration{Duration: time.Duration(s) * time.Second} }
		putRun(green, v1.Run{ID: "aaaaaaaaaaaa", Ref: "1.1.0+1.1", Version: "1.1.0+1.1", Trigger: v1.TriggerPromotion,
			StartedAt: *at(3 * time.Hour), FinishedAt: at(3*time.Hour - 4*time.Minute), Verdict: v1.VerdictPassed,
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultPassed, Duration: d(41)}, {Name: v1.TierUpgrade, Result: v1.ResultPassed, Duration: d(63)},
				{Name: v1.TierBackup, Result: v1.ResultPassed, Duration: d(12)}, {Name: v1.TierRestore, Result: v1.ResultPassed, Duration: d(20)}}},
			map[v1.TierName]string{v1.TierInstall: "deploying ccci_green_aaaa\nall services healthy\n"})
		putRun(red, v1.Run{ID: "cccccccccccc", Ref: "1.1.0+1.1", Version: "1.1.0+1.1", Trigger: v1.TriggerPromotion,
			StartedAt: *at(26 * time.Hour), FinishedAt: at(26*time.Hour - 3*time.Minute), Verdict: v1.VerdictPassed,
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultPassed, Duration: d(40)}}}, nil)
		putRun(red, v1.Run{ID: "bbbbbbbbbbbb", Ref: "abc1234", Version: "1.2.0+1.2", Trigger: v1.TriggerDrone, PR: 42, SourceRepo: "coop-cloud/" + red,
			StartedAt: *at(7 * time.Minute), FinishedAt: at(5 * time.Minute), Verdict: v1.VerdictFailed, Message: "upgrade: " + failReason,
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultPassed, Duration: d(38)},
				{Name: v1.TierUpgrade, Result: v1.ResultFailed, Reason: failReason, Duration: d(61)},
				{Name: v1.TierBackup, Result: v1.ResultSkipped, Reason: "upgrade failed"},
				{Name: v1.TierRestore, Result: v1.ResultNotApplicable, Reason: "no backupbot labels"}}},
			map[v1.TierName]string{v1.TierInstall: "install ok\n", v1.TierUpgrade: "deploying 1.2.0+1.2\ntask app.1: unhealthy\nGIVING UP after 60s\n"})

		By("serving the dashboard from that state")
		srv := server.New(server.Options{Backend: nopBackend{}})
		srv.HandleState(&controllers.View{Objects: &controllers.Dir{Root: resources}, Store: st})
		ts := httptest.NewServer(srv.Handler())
		DeferCleanup(ts.Close)
		url = ts.URL

		By("starting headless Chromium with a fresh profile")
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumFlags(GinkgoT().TempDir())...)
		browser, stopBrowser = chromedp.NewContext(alloc)
		DeferCleanup(func() { stopBrowser(); cancelAlloc() })
		// The first Run starts the browser; it must not carry a spec's timeout (it would stop it).
		Expect(chromedp.Do(browser, chromedp.Navigate("about:blank"))).To(Succeed())
	})

	// run runs a browser action within a spec's deadline.
	run := func(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		tctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		Expect(chromedp.Do(tctx, steps...)).To(Succeed())
	}
	eval := func(ctx context.Context, js string, out any) {
		run(ctx, chromedp.Func(func(c context.Context, t *chromedp.Target) error {
			raw, err := chromedp.Evaluate[[]byte](js)(c, t)
			if err != nil {
				return err
			}
			return json.Unmarshal(raw, out)
		}))
	}

	It("shows one row per recipe matching the state, a red tier with its reason, and links to the history", func(ctx SpecContext) {
		By("loading the page")
		run(ctx, chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("recipes")))

		By("reading the rows")
		var rows []dashboardRow
		eval(ctx, `Array.from(document.querySelectorAll("tr.recipe-row")).map(r => ({
			recipe: r.dataset.recipe, warm: r.dataset.warm,
			deployed: r.querySelector("[data-field=deployed]").innerText.trim(),
			knownGood: r.querySelector("[data-field=knownGood]").innerText.trim(),
			desired: r.querySelector("[data-field=desired]").innerText.trim(),
			ready: r.querySelector("[data-field=ready]").innerText.trim(),
			lastRun: r.querySelector("[data-field=lastRun]").innerText.trim()}))`, &rows)
		Expect(rows).To(HaveLen(2))
		Expect(rows[0]).To(And(HaveField("Recipe", green), HaveField("Warm", green), HaveField("Deployed", "1.1.0+1.1"),
			HaveField("KnownGood", "1.1.0+1.1"), HaveField("Desired", "1.1.0+1.1"), HaveField("Ready", HavePrefix("True Promoted"))))
		Expect(rows[0].LastRun).To(And(ContainSubstring("Passed"), ContainSubstring("2h ago")))
		Expect(rows[1]).To(And(HaveField("Recipe", red), HaveField("Deployed", "1.1.0+1.1"), HaveField("KnownGood", "1.1.0+1.1"),
			HaveField("Desired", "1.2.0+1.2"), HaveField("Ready", HavePrefix("False TestsFailed"))))
		Expect(rows[1].LastRun).To(And(ContainSubstring("Failed"), ContainSubstring("PR #42"), ContainSubstring("5m ago")))

		By("checking the badges' colours and the red tier's reason, visible without opening a log")
		var badges map[string]string
		eval(ctx, `Object.fromEntries(Array.from(document.querySelectorAll('tr[data-recipe="`+red+`"] .badge[data-tier]')).map(b =>
			[b.dataset.tier, getComputedStyle(b).backgroundColor]))`, &badges)
		Expect(badges).To(Equal(map[string]string{
			"install": "rgb(26, 127, 55)", "upgrade": "rgb(207, 34, 46)", "backup": "rgb(110, 119, 129)", "restore": "rgb(110, 119, 129)",
		}), "green passed, red failed, grey skipped or not applicable")
		var failed failedTier
		eval(ctx, `(() => { const r = document.querySelector('tr[data-recipe="`+red+`"] .reason[data-failed-tier]');
			const b = r.getBoundingClientRect();
			return {tier: r.dataset.failedTier, reason: r.innerText, reasonVisible: b.width > 0 && b.height > 0 && getComputedStyle(r).visibility === "visible",
				background: getComputedStyle(document.querySelector('tr[data-recipe="`+red+`"] .badge[data-result=Failed]')).backgroundColor}; })()`, &failed)
		Expect(failed).To(Equal(failedTier{Tier: "upgrade", Background: "rgb(207, 34, 46)", Reason: "upgrade: " + failReason, ReasonVisible: true}))

		By("checking the page needs nothing from elsewhere and refreshes itself")
		var page struct {
			Scripts  int    `json:"scripts"`
			External int    `json:"external"`
			Refresh  string `json:"refresh"`
		}
		eval(ctx, `({scripts: document.scripts.length,
			external: Array.from(document.querySelectorAll("[src],link[href]")).filter(e => !(e.src || e.href).startsWith(location.origin)).length,
			refresh: document.querySelector('meta[http-equiv="refresh"]').content})`, &page)
		Expect(page.Scripts).To(BeZero(), "readable without JavaScript")
		Expect(page.External).To(BeZero(), "no asset fetched from elsewhere")
		Expect(page.Refresh).To(Equal("15"))

		By("saving a screenshot of the dashboard")
		shoot(ctx, run, "dashboard.png")

		By("following the red recipe's link to its run history")
		run(ctx, chromedp.Click(chromedp.CSS(`tr[data-recipe="`+red+`"] a.recipe-link`)), chromedp.WaitVisible(chromedp.ID("runs")))
		var history struct {
			Path string   `json:"path"`
			Runs []string `json:"runs"`
			Red  string   `json:"red"`
		}
		eval(ctx, `({path: location.pathname, runs: Array.from(document.querySelectorAll("tr.run-row")).map(r => r.dataset.run),
			red: document.querySelector('tr[data-run="bbbbbbbbbbbb"] .reason[data-failed-tier]').innerText})`, &history)
		Expect(history.Path).To(Equal("/recipes/" + red))
		Expect(history.Runs).To(Equal([]string{"bbbbbbbbbbbb", "cccccccccccc"}), "newest first")
		Expect(history.Red).To(Equal("upgrade: " + failReason))
		shoot(ctx, run, "dashboard-recipe.png")

		By("opening the failed tier's log from its badge")
		run(ctx, chromedp.Click(chromedp.CSS(`tr[data-run="bbbbbbbbbbbb"] .badge[data-tier=upgrade]`)), chromedp.WaitVisible(chromedp.ID("tier-upgrade")))
		var log string
		eval(ctx, `document.querySelector("#tier-upgrade pre").innerText`, &log)
		Expect(log).To(ContainSubstring("GIVING UP after 60s"))
		shoot(ctx, run, "dashboard-run.png")
	}, NodeTimeout(2*time.Minute))
})

// shoot saves a full-page screenshot under _output/ as a test artifact.
func shoot(ctx context.Context, run func(context.Context, ...chromedp.Action[chromedp.Void]), name string) {
	var png []byte
	run(ctx, chromedp.Func(func(c context.Context, t *chromedp.Target) error {
		var err error
		png, err = chromedp.FullScreenshot(100)(c, t)
		return err
	}))
	dir := filepath.Join(fixtures.RepoRoot(), "_output")
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, name), png, 0o644)).To(Succeed())
	AddReportEntry("screenshot", filepath.Join(dir, name))
}

// nopBackend refuses every trigger: the dashboard specs trigger nothing.
type nopBackend struct{}

func (nopBackend) Trigger(context.Context, server.Trigger) (any, error) {
	return nil, server.ErrInvalid
}
