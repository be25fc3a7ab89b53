package controllers_test

import (
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

const (
	v10 = "1.0.0+1.0"
	v11 = "1.1.0+1.1"
	v12 = "1.2.0+1.2"
	v20 = "2.0.0+2.0"
)

func cond(t, reason string, ok bool) v1.Condition {
	s := v1.ConditionFalse
	if ok {
		s = v1.ConditionTrue
	}
	return v1.Condition{Type: t, Status: s, Reason: reason}
}

var _ = Describe("Decide", Ordered, func() {
	// covered collects the rows of the decision table the entries reach; every row must be
	// reached by at least one.
	covered := map[string]bool{}
	AfterAll(func() {
		for _, rule := range controllers.DecisionRules() {
			Expect(covered).To(HaveKey(rule), "no entry reaches the row %q of the decision table", rule)
		}
	})
	running := func(v string) controllers.Observed {
		return controllers.Observed{Version: v, Services: 1, Converged: true}
	}
	base := func() controllers.PlanInput {
		return controllers.PlanInput{Mode: v1.ModeLive, Rollback: true, Desired: v11}
	}
	DescribeTable("chooses the next action",
		func(edit func(*controllers.PlanInput), action controllers.Action, reason, rendered string) {
			in := base()
			edit(&in)
			p := controllers.Decide(in)
			covered[p.Rule] = true
			Expect(p.Action).To(Equal(action))
			Expect(p.Reason).To(Equal(reason))
			Expect(p.String()).To(Equal(rendered))
		},
		Entry("suspended: skip, whatever else holds", func(in *controllers.PlanInput) {
			in.Suspend, in.Observed = true, running(v10)
		}, controllers.ActionSkip, v1.ReasonSuspended, "SKIP"),
		Entry("suspended by an operator, with a data node away: skip", func(in *controllers.PlanInput) {
			in.Suspend, in.SuspendReason, in.Observed = true, "suspended by ops", running(v10)
			in.Observed.DataAway = &swarm.LocalityError{Message: "data locality"}
		}, controllers.ActionSkip, v1.ReasonSuspended, "SKIP"),
		Entry("a dependency with no status yet, a passed run: held", func(in *controllers.PlanInput) {
			in.Dependencies = []controllers.Dependency{{Name: "proxy"}}
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r"}
		}, controllers.ActionHeld, v1.ReasonDependencyNotReady, "HELD (none)→1.1.0+1.1"),
		Entry("a dependency not Ready, the second of two: held", func(in *controllers.PlanInput) {
			in.Observed = running(v10)
			in.Dependencies = []controllers.Dependency{{Name: "db", Known: true, Ready: cond(v1.ConditionReady, v1.ReasonPromoted, true)},
				{Name: "proxy", Known: true, Ready: cond(v1.ConditionReady, v1.ReasonTestsFailed, false)}}
		}, controllers.ActionHeld, v1.ReasonDependencyNotReady, "HELD 1.0.0+1.0→1.1.0+1.1"),
		Entry("a dependency not Ready while the app is converged at its version: left alone", func(in *controllers.PlanInput) {
			in.Observed = running(v11)
			in.Dependencies = []controllers.Dependency{{Name: "proxy", Known: true, Ready: cond(v1.ConditionReady, v1.ReasonTestsFailed, false)}}
		}, controllers.ActionConverged, v1.ReasonAlreadyDeployed, "CONVERGED"),
		Entry("every dependency Ready: tested", func(in *controllers.PlanInput) {
			in.Dependencies = []controllers.Dependency{{Name: "proxy", Known: true, Ready: cond(v1.ConditionReady, v1.ReasonAlreadyDeployed, true)}}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("the known-good desired version turned unhealthy: degraded, no write", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1, Problem: "service w_app runs 0/1 tasks"}
			in.Status.KnownGoodVersion = v11
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r"}
		}, controllers.ActionDegraded, v1.ReasonDegraded, "DEGRADED"),
		Entry("the last run aborted a moment ago: wait, no new run yet", func(in *controllers.PlanInput) {
			in.Observed, in.Gate = running(v10), controllers.Gate{State: controllers.GateAborted, RunID: "x", RetryAfter: time.Minute}
		}, controllers.ActionWait, v1.ReasonTesting, "WAIT 1.1.0+1.1"),
		Entry("the last run aborted, forced: tested at once", func(in *controllers.PlanInput) {
			in.Observed, in.Force = running(v10), true
			in.Gate = controllers.Gate{State: controllers.GateAborted, RunID: "x", RetryAfter: time.Minute}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("the tag moved since it was tested: tested again", func(in *controllers.PlanInput) {
			in.Observed, in.Status.KnownGoodVersion = running(v10), v10
			in.Gate = controllers.Gate{State: controllers.GateNone, Moved: "tag " + v11 + " moved"}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("an image of the running version moved in its registry (follow): tested again, not converged", func(in *controllers.PlanInput) {
			in.Observed, in.Status.KnownGoodVersion = running(v11), v11
			in.Gate = controllers.Gate{State: controllers.GateNone, Moved: "image app:1 moved", ImagesMoved: true}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("a stateful task runs away from its data, even converged at the desired version: stalled, nothing deployed", func(in *controllers.PlanInput) {
			in.Observed = running(v11)
			in.Observed.DataAway = &swarm.LocalityError{Message: "data locality: service warm_app_db with volume warm_app_data moved from node mn2 (drained) to node mn3"}
		}, controllers.ActionStalled, v1.ReasonDataNodeMoved, "STALLED"),
		Entry("a stateful task away from its data while a newer version passed: stalled, no promotion over it", func(in *controllers.PlanInput) {
			in.Observed = running(v10)
			in.Observed.DataAway = &swarm.LocalityError{Message: "data locality: service warm_app_db with volume warm_app_data moved from node mn2 (drained) to node mn3"}
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionStalled, v1.ReasonDataNodeMoved, "STALLED"),
		Entry("already deployed and converged, deployed by someone else: converged", func(in *controllers.PlanInput) {
			in.Observed = running(v11)
		}, controllers.ActionConverged, v1.ReasonAlreadyDeployed, "CONVERGED"),
		Entry("already deployed even though the version is marked failed: converged (step 5 before 6)", func(in *controllers.PlanInput) {
			in.Observed, in.Status.FailedVersions = running(v11), []string{v11}
		}, controllers.ActionConverged, v1.ReasonAlreadyDeployed, "CONVERGED"),
		Entry("a promotion interrupted by a crash that converged meanwhile: converged, Promoted", func(in *controllers.PlanInput) {
			in.Observed = running(v11)
			in.Status.LastAttemptedVersion = v11
			in.Status.Progress = &v1.Progress{Reason: v1.ReasonPromoting, Version: v11}
		}, controllers.ActionConverged, v1.ReasonPromoted, "CONVERGED"),
		Entry("a promotion interrupted before convergence: promote again (resume)", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1, Converged: false}
			in.Status.LastAttemptedVersion, in.Status.KnownGoodVersion = v11, v10
			in.Status.Progress = &v1.Progress{Reason: v1.ReasonPromoting, Version: v11}
		}, controllers.ActionPromote, v1.ReasonPromoting, "PROMOTE 1.1.0+1.1→1.1.0+1.1"),
		Entry("desired failed under this spec: failed, not retried", func(in *controllers.PlanInput) {
			in.Observed, in.Status.KnownGoodVersion = running(v10), v10
			in.Status.FailedVersions = []string{v11}
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionFailed, v1.ReasonTestsFailed, "FAILED"),
		Entry("desired failed but forced: tested again", func(in *controllers.PlanInput) {
			in.Observed, in.Status.FailedVersions, in.Force = running(v10), []string{v11}, true
			in.Gate = controllers.Gate{State: controllers.GateFailed, RunID: "r1"}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("desired failed its promotion and a crash came before the rollback: roll back", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1}
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v10, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonPromotionFailed, false)}
		}, controllers.ActionRollback, v1.ReasonPromotionFailed, "ROLLBACK 1.1.0+1.1→1.0.0+1.0"),
		Entry("desired failed its promotion, known-good back in place: failed, PromotionFailed", func(in *controllers.PlanInput) {
			in.Observed = running(v10)
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v10, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonPromotionFailed, false)}
		}, controllers.ActionFailed, v1.ReasonPromotionFailed, "FAILED"),
		Entry("failed promotion without rollback: failed, no deploy", func(in *controllers.PlanInput) {
			in.Observed, in.Rollback = controllers.Observed{Version: v11, Services: 1}, false
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v10, []string{v11}
		}, controllers.ActionFailed, v1.ReasonTestsFailed, "FAILED"),
		Entry("major bump: held", func(in *controllers.PlanInput) {
			in.Desired, in.Observed = v20, running(v11)
			in.Gate = controllers.Gate{State: controllers.GatePassed}
		}, controllers.ActionHeld, v1.ReasonMajorUpgradeHeld, "HELD 1.1.0+1.1→2.0.0+2.0"),
		Entry("major bump over the known-good version when nothing runs: held", func(in *controllers.PlanInput) {
			in.Desired, in.Status.KnownGoodVersion = v20, v10
		}, controllers.ActionHeld, v1.ReasonMajorUpgradeHeld, "HELD 1.0.0+1.0→2.0.0+2.0"),
		Entry("major bump allowed: tested", func(in *controllers.PlanInput) {
			in.Desired, in.Observed, in.AllowMajor = v20, running(v11), true
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 2.0.0+2.0"),
		Entry("first deploy of a major version: no bump, tested", func(in *controllers.PlanInput) {
			in.Desired = v20
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 2.0.0+2.0"),
		Entry("new version, no run: test", func(in *controllers.PlanInput) {
			in.Observed = running(v10)
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("new version, run in progress: wait", func(in *controllers.PlanInput) {
			in.Observed, in.Gate = running(v10), controllers.Gate{State: controllers.GateRunning, RunID: "r1"}
		}, controllers.ActionWait, v1.ReasonTesting, "WAIT 1.1.0+1.1"),
		Entry("new version, the awaited run failed: failed", func(in *controllers.PlanInput) {
			in.Observed, in.Gate = running(v10), controllers.Gate{State: controllers.GateFailed, RunID: "r1"}
		}, controllers.ActionFailed, v1.ReasonTestsFailed, "FAILED"),
		Entry("new version, passed: promote", func(in *controllers.PlanInput) {
			in.Observed, in.Gate = running(v10), controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionPromote, v1.ReasonPromoting, "PROMOTE 1.0.0+1.0→1.1.0+1.1"),
		Entry("nothing deployed, passed: promote from none", func(in *controllers.PlanInput) {
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionPromote, v1.ReasonPromoting, "PROMOTE (none)→1.1.0+1.1"),
		Entry("deployed at desired but not converged, not ours: tested and promoted like any change", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1}
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionPromote, v1.ReasonPromoting, "PROMOTE 1.1.0+1.1→1.1.0+1.1"),
		Entry("already deployed and converged, env unchanged since it converged: converged, no write", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = running(v11), false
			in.Status.KnownGoodVersion = v11
		}, controllers.ActionConverged, v1.ReasonAlreadyDeployed, "CONVERGED"),
		Entry("already deployed and converged but spec.env edited since: apply", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = running(v11), true
			in.Status.KnownGoodVersion = v11
		}, controllers.ActionApply, v1.ReasonApplied, "APPLY 1.1.0+1.1 (env changed)"),
		Entry("spec.env edited, no passed test run: apply anyway (the env is not what the tiers test)", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = running(v11), true
			in.Gate = controllers.Gate{State: controllers.GateFailed, RunID: "r1"}
		}, controllers.ActionApply, v1.ReasonApplied, "APPLY 1.1.0+1.1 (env changed)"),
		Entry("spec.env edited while the desired version runs unconverged: apply", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = controllers.Observed{Version: v11, Services: 1}, true
			in.Status.KnownGoodVersion = v11
		}, controllers.ActionApply, v1.ReasonApplied, "APPLY 1.1.0+1.1 (env changed)"),
		Entry("applied earlier, unchanged since: converged, keeps reason Applied", func(in *controllers.PlanInput) {
			in.Observed = running(v11)
			in.Status.DeployedVersion, in.Status.KnownGoodVersion = v11, v11
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonApplied, true)}
		}, controllers.ActionConverged, v1.ReasonApplied, "CONVERGED"),
		Entry("the edited env failed and was rolled back: failed, not applied again", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = running(v11), true
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v11, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonPromotionFailed, false)}
		}, controllers.ActionFailed, v1.ReasonPromotionFailed, "FAILED"),
		Entry("the edited env failed, forced: applied again", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged, in.Force = running(v11), true, true
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v11, []string{v11}
		}, controllers.ActionApply, v1.ReasonApplied, "APPLY 1.1.0+1.1 (env changed)"),
		Entry("the edited env failed and a crash came before its rollback: roll back to the previous env", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = controllers.Observed{Version: v11, Services: 1}, true
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v11, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonPromotionFailed, false)}
		}, controllers.ActionRollback, v1.ReasonPromotionFailed, "ROLLBACK 1.1.0+1.1 (previous env)"),
		Entry("the edited env failed without rollback: failed, no deploy", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged, in.Rollback = controllers.Observed{Version: v11, Services: 1}, true, false
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v11, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionReady, v1.ReasonPromotionFailed, false)}
		}, controllers.ActionFailed, v1.ReasonPromotionFailed, "FAILED"),
		Entry("spec.env edited and a new version to promote: the env rides with the promotion, tested first", func(in *controllers.PlanInput) {
			in.Observed, in.EnvChanged = running(v10), true
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("spec.env edited but suspended: skip", func(in *controllers.PlanInput) {
			in.Suspend, in.Observed, in.EnvChanged = true, running(v11), true
		}, controllers.ActionSkip, v1.ReasonSuspended, "SKIP"),
		Entry("a hand edit of the known-good desired version, report: drifted, no write", func(in *controllers.PlanInput) {
			in.Applied = true
			in.Observed, in.Status.KnownGoodVersion, in.DriftPolicy = running(v11), v11, v1.DriftReport
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
		}, controllers.ActionDrifted, v1.ReasonSpecDrift, "DRIFTED 1.1.0+1.1 (w_app: [TaskTemplate.ContainerSpec.Env])"),
		Entry("a hand rollout still in progress with a passed run: drifted, never a promotion", func(in *controllers.PlanInput) {
			in.Applied = true
			in.Observed, in.Status.KnownGoodVersion, in.DriftPolicy = controllers.Observed{Version: v11, Services: 2}, v11, v1.DriftReport
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
			in.Gate = controllers.Gate{State: controllers.GatePassed, RunID: "r1"}
		}, controllers.ActionDrifted, v1.ReasonSpecDrift, "DRIFTED 1.1.0+1.1 (w_app: [TaskTemplate.ContainerSpec.Env])"),
		Entry("a hand edit that broke the app: drifted, not degraded", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1, Problem: "service w_app runs 0/1 tasks"}
			in.Status.KnownGoodVersion, in.DriftPolicy, in.Applied = v11, v1.DriftReport, true
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Image"}}}
		}, controllers.ActionDrifted, v1.ReasonSpecDrift, "DRIFTED 1.1.0+1.1 (w_app: [TaskTemplate.ContainerSpec.Image])"),
		Entry("drift with spec.drift: correct: correct, naming the fields", func(in *controllers.PlanInput) {
			in.Applied = true
			in.Observed, in.Status.KnownGoodVersion, in.DriftPolicy = running(v11), v11, v1.DriftCorrect
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}, {Service: "w_db", Fields: []string{"removed"}}}
		}, controllers.ActionCorrect, v1.ReasonSpecDrift, "CORRECT 1.1.0+1.1 (w_app: [TaskTemplate.ContainerSpec.Env]; w_db: [removed])"),
		Entry("a stack found running by hand, never applied: adopted as it runs, not a drift action", func(in *controllers.PlanInput) {
			in.Observed, in.Status.KnownGoodVersion, in.DriftPolicy = running(v11), v11, v1.DriftCorrect
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
		}, controllers.ActionConverged, v1.ReasonAlreadyDeployed, "CONVERGED"),
		Entry("drift while the data is away: stalled first", func(in *controllers.PlanInput) {
			in.Applied = true
			in.Observed, in.Status.KnownGoodVersion, in.DriftPolicy = running(v11), v11, v1.DriftCorrect
			in.Observed.DataAway = &swarm.LocalityError{Message: "data locality: service w_db with volume w_data moved from node mn2 (drained) to node mn3"}
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
		}, controllers.ActionStalled, v1.ReasonDataNodeMoved, "STALLED"),
		Entry("drift and an edited env: the apply replaces the live spec", func(in *controllers.PlanInput) {
			in.Observed, in.Status.KnownGoodVersion, in.EnvChanged, in.DriftPolicy = running(v11), v11, true, v1.DriftCorrect
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
		}, controllers.ActionApply, v1.ReasonApplied, "APPLY 1.1.0+1.1 (env changed)"),
		Entry("drift of an interrupted promotion: the promotion resumes", func(in *controllers.PlanInput) {
			in.Observed, in.DriftPolicy = controllers.Observed{Version: v11, Services: 1}, v1.DriftCorrect
			in.Status.LastAttemptedVersion, in.Status.KnownGoodVersion = v11, v10
			in.Status.Progress = &v1.Progress{Reason: v1.ReasonPromoting, Version: v11}
			in.Drift = []swarm.Drift{{Service: "w_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}}}
		}, controllers.ActionPromote, v1.ReasonPromoting, "PROMOTE 1.1.0+1.1→1.1.0+1.1"),
		Entry("a version no node can schedule: stalled, Unschedulable, no rollback", func(in *controllers.PlanInput) {
			in.Observed = controllers.Observed{Version: v11, Services: 1}
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v10, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionStalled, v1.ReasonUnschedulable, true), cond(v1.ConditionReady, v1.ReasonUnschedulable, false)}
		}, controllers.ActionStalled, v1.ReasonUnschedulable, "STALLED"),
		Entry("a version no node could schedule, forced: tested again", func(in *controllers.PlanInput) {
			in.Observed, in.Force = controllers.Observed{Version: v11, Services: 1}, true
			in.Status.KnownGoodVersion, in.Status.FailedVersions = v10, []string{v11}
			in.Status.Conditions = v1.Conditions{cond(v1.ConditionStalled, v1.ReasonUnschedulable, true)}
		}, controllers.ActionTest, v1.ReasonTesting, "TEST 1.1.0+1.1"),
		Entry("data mode with services: undeploy", func(in *controllers.PlanInput) {
			in.Mode, in.Observed = v1.ModeData, running(v10)
		}, controllers.ActionUndeploy, v1.ReasonDataMode, "UNDEPLOY"),
		Entry("data mode without services: skip", func(in *controllers.PlanInput) {
			in.Mode = v1.ModeData
		}, controllers.ActionSkip, v1.ReasonDataMode, "SKIP"),
	)
})

var _ = Describe("Decide for a degraded warm app", func() {
	It("reports Degraded and writes nothing when the known-good, desired version turns unhealthy", func() {
		st := v1.WarmCanonicalStatus{KnownGoodVersion: v11, DeployedVersion: v11}
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Status: st,
			Observed: controllers.Observed{Version: v11, Services: 1, Converged: false, Problem: "service w_app runs 0/1 tasks: task: non-zero exit (1)"},
			Gate:     controllers.Gate{State: controllers.GatePassed, RunID: "r"}})
		Expect(p.Action).To(Equal(controllers.ActionDegraded))
		Expect(p.Reason).To(Equal(v1.ReasonDegraded))
		Expect(p.Message).To(ContainSubstring("task: non-zero exit (1)"))
	})

	It("still promotes a version that never converged here", func() {
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Status: v1.WarmCanonicalStatus{KnownGoodVersion: v10},
			Observed: controllers.Observed{Version: v11, Services: 1}, Gate: controllers.Gate{State: controllers.GatePassed, RunID: "r"}})
		Expect(p.Action).To(Equal(controllers.ActionPromote))
	})
})

var _ = Describe("GateFor", func() {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := t0.Add(d); return &t }
	run := func(id, version, hash string, verdict v1.Verdict, finished *time.Time) v1.Run {
		return v1.Run{ID: id, Version: version, SpecHash: hash, Verdict: verdict, FinishedAt: finished}
	}
	active := func(id string) bool { return id == "live" }
	DescribeTable("judges the gate from the run history",
		func(runs []v1.Run, waiting time.Time, state controllers.GateState, id string) {
			g := controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, SpecHash: "h", WaitingSince: waiting, Active: active})
			Expect(g.State).To(Equal(state))
			Expect(g.RunID).To(Equal(id))
		},
		Entry("no runs: none", nil, time.Time{}, controllers.GateNone, ""),
		Entry("a pass of this version and spec: passed",
			[]v1.Run{run("a", v11, "h", v1.VerdictPassed, at(0))}, time.Time{}, controllers.GatePassed, "a"),
		Entry("a pass under another RecipeTest spec does not count",
			[]v1.Run{run("a", v11, "old", v1.VerdictPassed, at(0))}, time.Time{}, controllers.GateNone, ""),
		Entry("a pass of another version does not count",
			[]v1.Run{run("a", v10, "h", v1.VerdictPassed, at(0))}, time.Time{}, controllers.GateNone, ""),
		Entry("a running run in this process: running",
			[]v1.Run{run("live", v11, "h", v1.VerdictRunning, nil)}, time.Time{}, controllers.GateRunning, "live"),
		Entry("a running record left by a crash: none, a new run starts",
			[]v1.Run{run("dead", v11, "h", v1.VerdictRunning, nil)}, time.Time{}, controllers.GateNone, ""),
		Entry("the awaited run failed: failed",
			[]v1.Run{run("f", v11, "h", v1.VerdictFailed, at(time.Minute))}, t0, controllers.GateFailed, "f"),
		Entry("a failure from before the wait (spec changed or forced since): none",
			[]v1.Run{run("f", v11, "h", v1.VerdictFailed, at(-time.Minute))}, t0, controllers.GateNone, ""),
		Entry("an aborted run, long ago or without a clock: none",
			[]v1.Run{run("x", v11, "h", v1.VerdictAborted, at(time.Minute))}, t0, controllers.GateNone, ""),
	)

	Context("when the tag moved to another commit since it was tested", func() {
		old, now := "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
		It("does not count the old commit's pass, says the tag moved, and tests the new commit", func() {
			runs := []v1.Run{{ID: "a", Version: v11, Commit: old, SpecHash: "h", Verdict: v1.VerdictPassed, FinishedAt: at(0)}}
			g := controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, Commit: now, SpecHash: "h"})
			Expect(g.State).To(Equal(controllers.GateNone))
			Expect(g.Moved).To(Equal("tag " + v11 + " moved from " + old + " to " + now + " since it was tested"))
			p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Gate: g})
			Expect(p.Action).To(Equal(controllers.ActionTest))
			Expect(p.Message).To(HavePrefix(g.Moved))
		})

		It("promotes the new commit once its run passed, pinned to that commit", func() {
			runs := []v1.Run{
				{ID: "b", Version: v11, Commit: now, SpecHash: "h", Verdict: v1.VerdictPassed, FinishedAt: at(time.Minute)},
				{ID: "a", Version: v11, Commit: old, SpecHash: "h", Verdict: v1.VerdictPassed, FinishedAt: at(0)},
			}
			g := controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, Commit: now, SpecHash: "h"})
			Expect(g).To(Equal(controllers.Gate{State: controllers.GatePassed, RunID: "b", Commit: now}))
			p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Gate: g})
			Expect(p.Action).To(Equal(controllers.ActionPromote))
			Expect(p.Commit).To(Equal(now))
		})

		It("ignores an old commit's failure too: the new commit is a new candidate", func() {
			runs := []v1.Run{{ID: "f", Version: v11, Commit: old, SpecHash: "h", Verdict: v1.VerdictFailed, FinishedAt: at(time.Minute)}}
			g := controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, Commit: now, SpecHash: "h", WaitingSince: t0})
			Expect(g.State).To(Equal(controllers.GateNone))
		})
	})

	It("pauses after a run aborted a moment ago instead of starting another at once", func() {
		runs := []v1.Run{run("x", v11, "h", v1.VerdictAborted, at(0))}
		g := controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, SpecHash: "h", Now: t0.Add(30 * time.Second)})
		Expect(g.State).To(Equal(controllers.GateAborted))
		Expect(g.RetryAfter).To(Equal(controllers.AbortedRetryDelay - 30*time.Second))
		g = controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, SpecHash: "h", Now: t0.Add(controllers.AbortedRetryDelay)})
		Expect(g.State).To(Equal(controllers.GateNone))
		By("a run aborted by a shutdown being retried at once")
		runs[0].Message = controllers.ShutdownAbort + "context canceled"
		g = controllers.GateFor(controllers.GateInput{Runs: runs, Version: v11, SpecHash: "h", Now: t0.Add(30 * time.Second)})
		Expect(g.State).To(Equal(controllers.GateNone))
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Gate: controllers.Gate{State: controllers.GateAborted, RunID: "x", RetryAfter: time.Minute}})
		Expect(p.Action).To(Equal(controllers.ActionWait))
		Expect(p.RunID).To(BeEmpty())
		Expect(p.RetryAfter).To(Equal(time.Minute))
	})
})

var _ = Describe("VerdictOf", func() {
	DescribeTable("gives one verdict per failure, whatever the action",
		func(failed error, want controllers.Verdict) {
			Expect(controllers.VerdictOf(failed)).To(Equal(want))
			Expect(controllers.VerdictOf(fmt.Errorf("wrapped: %w", failed))).To(Equal(want))
		},
		Entry("a node holding data drained", &swarm.LocalityError{Message: "data locality", Unusable: []string{"mn2"}}, controllers.VerdictDataNodeUnusable),
		Entry("a task moved while its data node is usable: the version's doing", &swarm.LocalityError{Message: "data locality"}, controllers.VerdictVersionFailed),
		Entry("a constraint no node satisfies", &swarm.ConstraintError{Service: "w_app", Constraint: "node.labels.nosuch==x"}, controllers.VerdictUnschedulable),
		Entry("tasks that keep failing", errors.New("service w_app: 3 tasks failed"), controllers.VerdictVersionFailed),
	)
})
