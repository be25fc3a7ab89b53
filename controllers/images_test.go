package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

const (
	imgRef = "10.123.0.1:5000/app:1"
	oldSum = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newSum = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

var _ = Describe("ImagesMoved", func() {
	tested := []v1.RunImage{
		{Role: v1.ImageCandidate, Service: "app", Image: imgRef, Digest: oldSum},
		{Role: v1.ImageCandidate, Service: "db", Image: "ccci-postgres:15", ID: "sha256:aaaa"},
		{Role: v1.ImageBase, Service: "app", Image: "10.123.0.1:5000/app:0", Digest: oldSum},
	}
	DescribeTable("compares what was tested with what the references name now",
		func(now map[string]string, want string) {
			Expect(controllers.ImagesMoved(tested, now)).To(Equal(want))
		},
		Entry("nothing resolved this pass: nothing judged", nil, ""),
		Entry("the same bytes", map[string]string{imgRef: oldSum, "ccci-postgres:15": "sha256:aaaa"}, ""),
		Entry("a registry tag moved", map[string]string{imgRef: newSum},
			"image "+imgRef+" moved from "+oldSum+" to "+newSum+" since it was tested"),
		Entry("a local image rebuilt under its tag", map[string]string{imgRef: oldSum, "ccci-postgres:15": "sha256:bbbb"},
			"image ccci-postgres:15 moved from sha256:aaaa to sha256:bbbb since it was tested"),
		Entry("the base version's image is not the candidate's", map[string]string{"10.123.0.1:5000/app:0": newSum}, ""),
	)
})

var _ = Describe("GateFor and Decide when a tested image moved", func() {
	at := func(d time.Duration) *time.Time {
		t := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(d)
		return &t
	}
	passedOld := v1.Run{ID: "a", Version: v11, SpecHash: "h", Verdict: v1.VerdictPassed, FinishedAt: at(0),
		Images: []v1.RunImage{{Role: v1.ImageCandidate, Service: "app", Image: imgRef, Digest: oldSum}}}
	passedNew := v1.Run{ID: "b", Version: v11, SpecHash: "h", Verdict: v1.VerdictPassed, FinishedAt: at(time.Minute),
		Images: []v1.RunImage{{Role: v1.ImageCandidate, Service: "app", Image: imgRef, Digest: newSum}}}
	converged := controllers.Observed{Version: v11, Services: 1, Converged: true}
	promotedOld := v1.WarmCanonicalStatus{DeployedImages: map[string]string{imgRef: oldSum}}
	moved := "image " + imgRef + " moved from " + oldSum + " to " + newSum + " since it was tested"

	It("tests the version again when it follows, the warm app running the tested digest meanwhile", func() {
		g := controllers.GateFor(controllers.GateInput{Runs: []v1.Run{passedOld}, Version: v11, SpecHash: "h", Images: map[string]string{imgRef: newSum}})
		Expect(g.State).To(Equal(controllers.GateNone))
		Expect(g.ImagesMoved).To(BeTrue())
		Expect(g.Moved).To(Equal(moved))
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Observed: converged, Status: promotedOld, Gate: g})
		Expect(p.Action).To(Equal(controllers.ActionTest))
		Expect(p.Message).To(HavePrefix(moved))
	})

	It("waits for the new run, still not converged", func() {
		running := v1.Run{ID: "c", Version: v11, SpecHash: "h", Verdict: v1.VerdictRunning}
		g := controllers.GateFor(controllers.GateInput{Runs: []v1.Run{running, passedOld}, Version: v11, SpecHash: "h",
			Images: map[string]string{imgRef: newSum}, Active: func(string) bool { return true }})
		Expect(g.State).To(Equal(controllers.GateRunning))
		Expect(g.ImagesMoved).To(BeTrue())
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Observed: converged, Status: promotedOld, Gate: g})
		Expect(p.Action).To(Equal(controllers.ActionWait))
	})

	It("promotes the new digests once the new run passed", func() {
		g := controllers.GateFor(controllers.GateInput{Runs: []v1.Run{passedNew, passedOld}, Version: v11, SpecHash: "h", Images: map[string]string{imgRef: newSum}})
		Expect(g).To(Equal(controllers.Gate{State: controllers.GatePassed, RunID: "b", Images: map[string]string{imgRef: newSum}}))
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Observed: converged, Status: promotedOld, Gate: g})
		Expect(p.Action).To(Equal(controllers.ActionPromote))
		Expect(p.Images).To(Equal(map[string]string{imgRef: newSum}))
	})

	It("keeps the tested digest and reports the move when pinned", func() {
		g := controllers.GateFor(controllers.GateInput{Runs: []v1.Run{passedOld}, Version: v11, SpecHash: "h", Images: map[string]string{imgRef: newSum}, Pinned: true})
		Expect(g.State).To(Equal(controllers.GatePassed))
		Expect(g.Images).To(Equal(map[string]string{imgRef: oldSum}))
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Observed: converged, Status: promotedOld, Gate: g})
		Expect(p.Action).To(Equal(controllers.ActionConverged))
		Expect(p.Message).To(ContainSubstring(moved))
	})

	It("leaves a converged app alone when the registry could not be asked", func() {
		g := controllers.GateFor(controllers.GateInput{Runs: []v1.Run{passedOld}, Version: v11, SpecHash: "h"})
		p := controllers.Decide(controllers.PlanInput{Mode: v1.ModeLive, Desired: v11, Observed: converged, Status: promotedOld, Gate: g})
		Expect(p.Action).To(Equal(controllers.ActionConverged))
	})
})
