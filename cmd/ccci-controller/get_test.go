package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
)

var _ = Describe("get and describe", func() {
	var res, state string
	BeforeEach(func() {
		dir := GinkgoT().TempDir()
		res, state = filepath.Join(dir, "resources"), filepath.Join(dir, "state")
		Expect(os.MkdirAll(res, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(res, "gitea.yaml"), []byte(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: gitea
spec:
  source:
    git: /srv/gitea
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: gitea
spec:
  version: latest
`), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(res, "broken.yaml"), []byte("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: broken\nspec:\n  mode: warm\n"), 0o644)).To(Succeed())
		st, err := store.Open(state)
		Expect(err).NotTo(HaveOccurred())
		now := time.Now().UTC()
		Expect(st.Put(v1.KindWarmCanonical, "gitea", v1.WarmCanonicalStatus{
			DesiredVersion: "1.1.0+1.1", DeployedVersion: "1.0.0+1.0", KnownGoodVersion: "1.0.0+1.0", FailedVersions: []string{"1.1.0+1.1"},
			Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: v1.ConditionFalse, Reason: v1.ReasonTestsFailed, Message: "install failed", LastTransitionTime: now}},
		})).To(Succeed())
		Expect(st.PutRun("gitea", "abc123def456", v1.Run{ID: "abc123def456", Ref: "1.1.0+1.1", Version: "1.1.0+1.1", Trigger: v1.TriggerDrone, PR: 7, SourceRepo: "coop-cloud/gitea",
			StartedAt: now, FinishedAt: &now, Verdict: v1.VerdictFailed, Message: "install failed",
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: "unhealthy", Duration: v1.Duration{Duration: 3 * time.Second}}}})).To(Succeed())
	})
	cmd := func(args ...string) (int, string, string) {
		return cli(append([]string{"--resources", res, "--state", state}, args...)...)
	}

	It("lists both kinds with status, invalid objects included", func() {
		code, out, _ := cmd("get")
		Expect(code).To(Equal(0))
		Expect(out).To(MatchRegexp(`RECIPETEST\s+READY\s+REASON`))
		Expect(out).To(MatchRegexp(`gitea\s+Unknown\s+-\s+abc123def456\s+1\.1\.0\+1\.1\s+drone\s+Failed`))
		Expect(out).To(MatchRegexp(`gitea\s+1\.0\.0\+1\.0\s+1\.1\.0\+1\.1\s+1\.0\.0\+1\.0\s+False\s+TestsFailed`))
		Expect(out).To(MatchRegexp(`broken\s+.*False\s+InvalidSpec`))
	})

	DescribeTable("accepts every spelling of a kind",
		func(kind string) {
			code, out, _ := cmd("get", kind, "gitea")
			Expect(code).To(Equal(0))
			Expect(out).To(ContainSubstring("WARMCANONICAL"))
		},
		Entry(nil, "wc"), Entry(nil, "wcs"), Entry(nil, "warmcanonical"), Entry(nil, "WarmCanonicals"),
	)

	It("prints spec and status as JSON", func() {
		code, out, _ := cmd("get", "rt", "gitea", "-o", "json")
		Expect(code).To(Equal(0))
		var v struct {
			Spec   v1.RecipeTestSpec   `json:"spec"`
			Status v1.RecipeTestStatus `json:"status"`
		}
		Expect(json.Unmarshal([]byte(out), &v)).To(Succeed())
		Expect(v.Spec.Source.Branch).To(Equal("main"), "the spec is shown defaulted")
		Expect(v.Status.Runs).To(HaveLen(1))
		Expect(v.Status.Runs[0].PR).To(Equal(7))
	})

	It("rejects an unknown kind or output with exit 2 and an unknown name with exit 1", func() {
		code, _, errOut := cmd("get", "apps")
		Expect(code).To(Equal(2))
		Expect(errOut).To(ContainSubstring("valid: recipetest, rt, warmcanonical, wc"))
		code, _, _ = cmd("get", "-o", "xml")
		Expect(code).To(Equal(2))
		code, _, _ = cmd("get", "wc", "nope")
		Expect(code).To(Equal(1))
	})

	It("describes a WarmCanonical and a RecipeTest with versions, conditions and tiers", func() {
		code, out, _ := cmd("describe", "wc/gitea")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("Known-good:      1.0.0+1.0"))
		Expect(out).To(ContainSubstring("Failed:          1.1.0+1.1"))
		Expect(out).To(MatchRegexp(`Ready\s+False\s+TestsFailed\s+install failed`))
		code, out, _ = cmd("describe", "recipetest/gitea")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("pr 7 from coop-cloud/gitea"))
		Expect(out).To(MatchRegexp(`install\s+Failed\s+3s\s+unhealthy`))
		code, out, _ = cmd("describe", "wc/broken")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("broken.yaml:6"))
	})

	It("describes a run by id: its tiers, and while it is unfinished whether a live process holds it", func() {
		code, out, _ := cmd("describe", "abc123def456")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("RecipeTest: gitea"))
		Expect(out).To(MatchRegexp(`install\s+Failed\s+3s\s+unhealthy`))
		Expect(out).NotTo(ContainSubstring("State:"), "a finished run has no lease to report")

		st, err := store.Open(state)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.PutRun("gitea", "fedcba654321", v1.Run{ID: "fedcba654321", Ref: "1.2.0+1.2", Trigger: v1.TriggerManual, StartedAt: time.Now(), Verdict: v1.VerdictRunning})).To(Succeed())
		_, out, _ = cmd("describe", "run/fedcba654321")
		Expect(out).To(ContainSubstring("State: not finished, and no live process holds it"))
		release, err := st.HoldLease("fedcba654321")
		Expect(err).NotTo(HaveOccurred())
		defer release()
		_, out, _ = cmd("describe", "fedcba654321")
		Expect(out).To(ContainSubstring("State: in progress: a live process of this state directory holds its lease"))

		code, _, errOut := cmd("describe", "000000000000")
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring(`run "000000000000": no record in state directory ` + state))
		Expect(errOut).To(ContainSubstring("(valid: a run id that get or trigger shows, or KIND/NAME such as wc/gitea)"))
	})

	It("describes a spec.env edited since the running version converged by key, never by value", func() {
		st, err := store.Open(state)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Put(controllers.KindKnownGood, "gitea", controllers.KnownGood{Version: "1.0.0+1.0", Env: map[string]string{"DOMAIN": "old.example.org"}})).To(Succeed())
		code, out, _ := cmd("describe", "wc/gitea")
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("Env:             spec.env changed since 1.0.0+1.0 converged: DOMAIN (the next reconcile applies it"))
		Expect(out).NotTo(ContainSubstring("old.example.org"))

		Expect(st.Put(controllers.KindKnownGood, "gitea", controllers.KnownGood{Version: "1.0.0+1.0"})).To(Succeed())
		_, out, _ = cmd("describe", "wc/gitea")
		Expect(out).To(ContainSubstring("Env:             1.0.0+1.0 converged with the current spec.env"))
	})

	It("refuses trigger for a WarmCanonical and without a ref, with exit 2", func() {
		code, _, _ := cmd("trigger", "wc/gitea", "--ref", "x")
		Expect(code).To(Equal(2))
		GinkgoT().Setenv("REF", "")
		GinkgoT().Setenv("DRONE_COMMIT_SHA", "")
		GinkgoT().Setenv("PR", "")
		GinkgoT().Setenv("DRONE_PULL_REQUEST", "")
		code, _, _ = cmd("trigger", "rt/gitea")
		Expect(code).To(Equal(2))
	})
})
