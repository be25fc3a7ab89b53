package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/metrics"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/reconcile"
)

const operatorResources = `apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: app
spec:
  source:
    git: /srv/recipes/app
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: app
spec:
  version: latest
`

// operatorWorld is a resources directory and a state directory with one failed run.
type operatorWorld struct {
	resources, state string
	store            *store.Store
}

func newOperatorWorld() *operatorWorld {
	w := &operatorWorld{resources: GinkgoT().TempDir(), state: GinkgoT().TempDir()}
	Expect(os.WriteFile(filepath.Join(w.resources, "app.yaml"), []byte(operatorResources), 0o644)).To(Succeed())
	var err error
	w.store, err = store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	dir, err := w.store.RunDir("app", "0123456789ab")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "install.log"), []byte("deployed\nhealthy\n"), 0o644)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "upgrade.log"), []byte("upgrading\nnot healthy after 60s\n"), 0o644)).To(Succeed())
	now := time.Now().UTC()
	Expect(w.store.PutRun("app", "0123456789ab", v1.Run{ID: "0123456789ab", Version: "1.2.0+1.2", Trigger: v1.TriggerManual,
		StartedAt: now, FinishedAt: &now, Verdict: v1.VerdictFailed, Tiers: []v1.TierResult{
			{Name: v1.TierInstall, Result: v1.ResultPassed, LogFile: "install.log"},
			{Name: v1.TierUpgrade, Result: v1.ResultFailed, Reason: "not healthy after 60s", LogFile: "upgrade.log"},
			{Name: v1.TierBackup, Result: v1.ResultSkipped, Reason: "upgrade failed"},
		}})).To(Succeed())
	return w
}

func (w *operatorWorld) cli(args ...string) (int, string, string) {
	return cli(append([]string{"--resources", w.resources, "--state", w.state}, args...)...)
}

// daemon serves the operator API the way run does, over w's directories, with token.
func (w *operatorWorld) daemon(token string, planner server.Planner) string {
	c := &controller{store: w.store, objects: &controllers.Dir{Root: w.resources}}
	srv := server.New(server.Options{Backend: &daemonBackend{c: c}, Token: token})
	srv.HandleState(c.view())
	srv.HandlePlan(planner)
	var enqueued []string
	srv.HandleSuspend(&suspender{c: c, enqueue: func(r reconcile.Request) { enqueued = append(enqueued, r.Name) }})
	ts := httptest.NewServer(srv.Handler())
	DeferCleanup(ts.Close)
	return ts.URL
}

var _ = Describe("logs", func() {
	var w *operatorWorld
	BeforeEach(func() { w = newOperatorWorld() })

	It("prints every tier's log under a header with its result and reason", func() {
		code, out, errOut := w.cli("logs", "0123456789ab")
		Expect(errOut).To(BeEmpty())
		Expect(code).To(Equal(0))
		Expect(out).To(Equal(`run 0123456789ab of RecipeTest app: Failed 1.2.0+1.2
==> install: Passed <==
deployed
healthy
==> upgrade: Failed (not healthy after 60s) <==
upgrading
not healthy after 60s
==> backup: Skipped (upgrade failed) <==
(no log)
`))
	})

	It("prints one tier's log alone, and names the valid tiers for a wrong one", func() {
		code, out, _ := w.cli("logs", "0123456789ab", "upgrade")
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("upgrading\nnot healthy after 60s\n"))
		code, _, errOut := w.cli("logs", "0123456789ab", "restore")
		Expect(code).To(Equal(2))
		Expect(errOut).To(ContainSubstring(`has no tier "restore" (valid: [install upgrade backup])`))
	})

	It("fails for an unknown run", func() {
		code, _, errOut := w.cli("logs", "ffffffffffff")
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring(`run "ffffffffffff"`))
	})

	It("reads the same from the daemon with --server", func() {
		url := w.daemon("tok", nil)
		_, local, _ := w.cli("logs", "0123456789ab")
		code, remote, errOut := cli("logs", "0123456789ab", "--server", url)
		Expect(errOut).To(BeEmpty())
		Expect(code).To(Equal(0))
		Expect(remote).To(Equal(local))

		By("naming the RecipeTest instead of the run: its newest run, locally and from the daemon")
		code, byName, errOut := w.cli("logs", "rt/app", "upgrade")
		Expect(code).To(Equal(0), errOut)
		Expect(byName).To(Equal("upgrading\nnot healthy after 60s\n"))
		code, remoteByName, _ := cli("logs", "recipetest/app", "--server", url)
		Expect(code).To(Equal(0))
		Expect(remoteByName).To(Equal(local))
		code, _, errOut = w.cli("logs", "wc/app")
		Expect(code).To(Equal(2))
		Expect(errOut).To(ContainSubstring("not of a WarmCanonical"))
	})
})

var _ = Describe("suspend and resume", func() {
	var w *operatorWorld
	BeforeEach(func() { w = newOperatorWorld() })

	suspension := func() *controllers.Suspension {
		sp, err := controllers.SuspensionOf(w.store, "app")
		Expect(err).NotTo(HaveOccurred())
		return sp
	}

	It("records an override in the state directory, leaving the resource file alone", func() {
		before, err := os.ReadFile(filepath.Join(w.resources, "app.yaml"))
		Expect(err).NotTo(HaveOccurred())
		code, out, errOut := w.cli("suspend", "app", "--reason", "migrating by hand", "--by", "alice")
		Expect(errOut).To(BeEmpty())
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("WarmCanonical app suspended: migrating by hand\n"))
		Expect(suspension()).To(And(HaveField("Reason", "migrating by hand"), HaveField("By", "alice")))
		after, err := os.ReadFile(filepath.Join(w.resources, "app.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(Equal(before))
		Expect(w.store.Put(v1.KindWarmCanonical, "app", v1.WarmCanonicalStatus{DeployedVersion: "1.1.0+1.1"})).To(Succeed())
		_, out, _ = w.cli("describe", "wc/app")
		Expect(out).To(MatchRegexp(`Suspended:\n  Since .* by alice: migrating by hand \(ccci-controller resume app lifts it\)`))

		By("resuming")
		code, out, _ = w.cli("resume", "app")
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("WarmCanonical app resumed\n"))
		Expect(suspension()).To(BeNil())
		_, out, _ = w.cli("resume", "app")
		Expect(out).To(ContainSubstring("was not suspended"))
	})

	DescribeTable("refuses bad input without writing",
		func(args []string, code int, msg string) {
			got, _, errOut := w.cli(args...)
			Expect(got).To(Equal(code))
			Expect(errOut).To(ContainSubstring(msg))
			Expect(suspension()).To(BeNil())
		},
		Entry("no reason", []string{"suspend", "app"}, 2, "--reason is required"),
		Entry("unknown object", []string{"suspend", "nope", "--reason", "x"}, 1, `WarmCanonical "nope" is not defined`),
		Entry("no name", []string{"suspend", "--reason", "x"}, 2, "accepts 1 arg"),
	)

	It("asks the daemon with --server, with the token", func() {
		url := w.daemon("s3cret", nil)
		token := filepath.Join(GinkgoT().TempDir(), "token")
		Expect(os.WriteFile(token, []byte("s3cret\n"), 0o600)).To(Succeed())

		code, _, errOut := cli("suspend", "app", "--reason", "incident", "--server", url)
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring("401"))
		Expect(suspension()).To(BeNil())

		code, _, errOut = cli("suspend", "app", "--reason", "incident", "--by", "bob", "--server", url, "--token-file", token)
		Expect(errOut).To(BeEmpty())
		Expect(code).To(Equal(0))
		Expect(suspension()).To(And(HaveField("Reason", "incident"), HaveField("By", "bob")))

		code, _, errOut = cli("suspend", "nope", "--reason", "x", "--server", url, "--token-file", token)
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring("not defined"))

		code, out, _ := cli("resume", "app", "--server", url, "--token-file", token)
		Expect(code).To(Equal(0))
		Expect(out).To(Equal("WarmCanonical app resumed\n"))
		Expect(suspension()).To(BeNil())
	})
})

// stubPlanner answers plan requests from the daemon with fixed lines.
type stubPlanner struct{ asked [][]string }

func (p *stubPlanner) Plan(_ context.Context, names []string) ([]server.PlanLine, error) {
	p.asked = append(p.asked, names)
	return []server.PlanLine{
		{Name: "app", Deployed: "1.0.0+1.0", Desired: "1.1.0+1.1", Action: "PROMOTE", Plan: "PROMOTE 1.0.0+1.0→1.1.0+1.1", Reason: "Promoting", Message: "run r1 passed", DependsOn: []string{"proxy", "sso"}},
		{Name: "broken", Error: `WarmCanonical "broken": spec.recipeTest "x" names no RecipeTest`},
	}, nil
}

var _ = Describe("plan", func() {
	It("prints the daemon's plan with --server and exits 1 when an object cannot be planned", func() {
		w := newOperatorWorld()
		p := &stubPlanner{}
		url := w.daemon("", p)
		code, out, errOut := cli("plan", "wc/app", "wc/broken", "--server", url)
		Expect(code).To(Equal(1))
		Expect(p.asked).To(Equal([][]string{{"app", "broken"}}))
		lines := strings.Split(strings.TrimSpace(out), "\n")
		Expect(lines).To(HaveLen(3))
		Expect(strings.Fields(lines[1])).To(Equal([]string{"app", "1.0.0+1.0", "1.1.0+1.1", "PROMOTE", "1.0.0+1.0→1.1.0+1.1", "Promoting", "proxy,sso"}))
		Expect(strings.Fields(lines[2])[:2]).To(Equal([]string{"broken", "-"}))
		Expect(errOut).To(And(ContainSubstring("app: run r1 passed"), ContainSubstring(`broken: WarmCanonical "broken"`)))
	})

	DescribeTable("refuses bad arguments",
		func(args []string, msg string) {
			code, _, errOut := cli(args...)
			Expect(code).To(Equal(2))
			Expect(errOut).To(ContainSubstring(msg))
		},
		Entry("a RecipeTest", []string{"plan", "rt/app"}, "cannot plan rt/app"),
		Entry("objects and --all", []string{"plan", "wc/app", "--all"}, "not both"),
		Entry("no kind", []string{"plan", "app"}, "KIND/NAME"),
	)
})

var _ = Describe("the daemon's metrics wiring", func() {
	It("reads promotions under the kind the controllers write them", func() {
		Expect(metrics.PromotionsKind).To(Equal(controllers.KindPromotions))
	})
})

var _ = Describe("notification flags", func() {
	DescribeTable("refuse what cannot work before doing anything",
		func(args []string, msg string) {
			w := newOperatorWorld()
			code, _, errOut := w.cli(args...)
			Expect(code).To(Equal(2))
			Expect(errOut).To(ContainSubstring(msg))
		},
		Entry("a secret without a URL", []string{"sweep", "--notify-secret-file", "/dev/null"}, "--notify-secret-file needs --notify-url"),
		Entry("a URL that is not http", []string{"sweep", "--notify-url", "ftp://example.org/hook"}, "invalid --notify-url"),
		Entry("an unreadable secret", []string{"sweep", "--notify-url", "http://127.0.0.1:9/hook", "--notify-secret-file", "/nonexistent/secret"}, "read --notify-secret-file"),
	)
})
