//go:build integration

package integration

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("drift of a warm app", func() {
	It("reports a hand edit, then corrects it with one update of the drifted service", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag11)
		action, code := w.sweepAction(ctx)
		Expect(action).To(Equal("PROMOTED"))
		Expect(code).To(Equal(0))

		By("a reconcile of the untouched app finding no drift")
		action, _ = w.sweepAction(ctx)
		Expect(action).To(Equal("CONVERGED"))
		clean, ok := w.status().Conditions.Get(v1.ConditionDrifted)
		Expect(ok).To(BeTrue())
		Expect(clean.Status).To(Equal(v1.ConditionFalse), clean.Message)

		By("editing the app service by hand")
		out, err := exec.CommandContext(ctx, "docker", "service", "update", "--detach", "--env-add", "HAND_EDIT=1", w.stack+"_app").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())

		By("a reconcile reporting it, and writing nothing")
		before := w.serviceIndexes(ctx)
		action, _ = w.sweepAction(ctx)
		Expect(action).To(Equal("DRIFTED"))
		Expect(w.serviceIndexes(ctx)).To(Equal(before))
		drifted, ok := w.status().Conditions.Get(v1.ConditionDrifted)
		Expect(ok).To(BeTrue())
		Expect(drifted.Status).To(Equal(v1.ConditionTrue))
		Expect(drifted.Reason).To(Equal(v1.ReasonSpecDrift))
		Expect(drifted.Message).To(ContainSubstring(w.stack + "_app: [TaskTemplate.ContainerSpec.Env]"))

		By("drift: correct putting the applied spec back, one update of that service only")
		w.writeWarmCanonical(tag11, "drift: correct")
		action, code = w.sweepAction(ctx)
		Expect(code).To(Equal(0))
		Expect(action).To(Equal("CORRECTED"))
		after := w.serviceIndexes(ctx)
		for name, idx := range before {
			if name == w.stack+"_app" {
				Expect(after[name]).To(BeNumerically(">", idx), "the drifted service was updated")
			} else {
				Expect(after[name]).To(Equal(idx), "service %s did not drift and was not touched", name)
			}
		}
		svc, _, err := docker.ServiceInspectWithRaw(ctx, w.stack+"_app", swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(slices.Contains(svc.Spec.TaskTemplate.ContainerSpec.Env, "HAND_EDIT=1")).To(BeFalse())
		drifted, _ = w.status().Conditions.Get(v1.ConditionDrifted)
		Expect(drifted.Status).To(Equal(v1.ConditionFalse))
	}, NodeTimeout(6*time.Minute))

	It("sees a hand edit from Docker's events within seconds, with an interval of an hour, and an idle daemon writes nothing", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag11, "interval: 1h")
		w.startDaemon(ctx)
		Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).
			Should(Equal("True/" + v1.ReasonPromoted))

		By("watching the idle daemon for a minute: no write to Swarm, by Docker's own events")
		before := w.serviceIndexes(ctx)
		since := time.Now()
		Consistently(w.serviceIndexes).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal(before))
		Expect(swarmWrites(ctx, since, w.stack)).To(BeEmpty())

		By("editing the app by hand, a change that restarts its task: Drifted from the event, while Swarm still rolls it out")
		app := w.stack + "_app"
		editAt := time.Now()
		out, err := exec.CommandContext(ctx, "docker", "service", "update", "--detach", "--env-add", "HAND_EDIT=1", app).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Eventually(w.drifted).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal("True/" + v1.ReasonSpecDrift))
		Expect(w.promotions()).To(HaveLen(1), "a hand rollout is not recorded as a promotion")

		By("report mode writing nothing, by Docker's events, once the hand rollout is done")
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
		Consistently(w.drifted).WithContext(ctx).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal("True/" + v1.ReasonSpecDrift))
		Expect(specWrites(ctx, editAt, app)).To(Equal(1), "only the hand edit wrote the service")
		Expect(w.promotions()).To(HaveLen(1))

		By("adding drift: correct to the file: the reconcile it brings corrects it, by one update of that service")
		correctAt := time.Now()
		w.writeWarmCanonical(tag11, "interval: 1h", "drift: correct")
		Eventually(func(ctx context.Context) []string { return w.serviceEnv(ctx) }).WithContext(ctx).WithTimeout(15 * time.Second).WithPolling(200 * time.Millisecond).
			ShouldNot(ContainElement("HAND_EDIT=1"))
		Eventually(w.drifted).WithContext(ctx).WithTimeout(15 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal("False/" + v1.ReasonNoDrift))
		Expect(specWrites(ctx, correctAt, app)).To(Equal(1), "exactly one service update corrected it")
		for name := range before {
			if name != app {
				Expect(specWrites(ctx, correctAt, name)).To(BeZero(), "service %s did not drift and was not touched", name)
			}
		}
		Expect(w.promotions()).To(HaveLen(1), "a correction is not a promotion")
	}, NodeTimeout(5*time.Minute))
})

// swarmWrites lists Docker's events about services, networks, secrets and configs of stack
// since then: every write to Swarm's objects shows there, whoever made it.
func swarmWrites(_ context.Context, since time.Time, stack string) []string {
	var out []string
	for _, m := range swarmEvents.since(since) {
		if strings.HasPrefix(m.Actor.Attributes["name"], stack) {
			out = append(out, fmt.Sprintf("%s %s %s", m.Type, m.Action, m.Actor.Attributes["name"]))
		}
	}
	return out
}

// drifted returns the Drifted condition's status and reason.
func (w *world) drifted() string {
	c, _ := w.status().Conditions.Get(v1.ConditionDrifted)
	return string(c.Status) + "/" + c.Reason
}

// specWrites counts the writes to service's spec since then, by Docker's events: an update
// event without an update state is a client's write; Swarm's own progress reports carry one.
func specWrites(_ context.Context, since time.Time, service string) int {
	n := 0
	for _, m := range swarmEvents.since(since) {
		_, progress := m.Actor.Attributes["updatestate.new"]
		if m.Type == events.ServiceEventType && m.Action == "update" && m.Actor.Attributes["name"] == service && !progress {
			n++
		}
	}
	return n
}
