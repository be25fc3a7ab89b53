//go:build multinode

package multinode

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("drift correction on a 3-node swarm", Ordered, func() {
	It("stalls a correction while the drifted app's data node is drained, like a promotion, and corrects once the node is back", func(ctx SpecContext) {
		w := newWorld("    - name: install")
		file := filepath.Join(w.dir, "resources", "mn.yaml")
		edit := func(old, new string) {
			b, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(old))
			Expect(os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644)).To(Succeed())
		}
		docker := func(ctx context.Context, args ...string) {
			out, err := exec.CommandContext(ctx, "docker", append([]string{"-H", endpoint(mn1)}, args...)...).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
		}
		service := w.stack + "_app"
		inspect := func() swarm.Service {
			svc, _, err := manager.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
			Expect(err).NotTo(HaveOccurred())
			return svc
		}
		handEdited := func() bool { return slices.Contains(inspect().Spec.TaskTemplate.ContainerSpec.Env, "HAND_EDIT=1") }

		By("promoting 1.1.0+1.1, whose task and volume land on a worker")
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*PROMOTED`))
		node := runningNode(ctx, service, "ccci-sample-app:1.1")
		Expect(node).To(BeElementOf(mn2, mn3))
		other := map[string]string{mn2: mn3, mn3: mn2}[node]
		DeferCleanup(func(ctx SpecContext) {
			docker(ctx, "node", "update", "--availability=active", node)
			docker(ctx, "node", "update", "--availability=active", other)
		}, NodeTimeout(time.Minute))
		By("leaving " + node + " the only node that runs tasks, so a restarted task stays beside its data")
		docker(ctx, "node", "update", "--availability=drain", other)

		By("editing the service by hand, a change that restarts its task: reported, nothing written (spec.drift: report)")
		docker(ctx, "service", "update", "--detach", "--env-add", "HAND_EDIT=1", service)
		Eventually(func() bool { return runningNode(ctx, service, "ccci-sample-app:1.1") == node }).
			WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(250 * time.Millisecond).Should(BeTrue())
		out, errOut, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*DRIFTED`))
		Expect(handEdited()).To(BeTrue())

		By("asking for correction and draining " + node + ", where the data is: the plan and the sweep stall, writing nothing")
		edit("  timeout: 3m\n", "  timeout: 3m\n  drift: correct\n")
		docker(ctx, "node", "update", "--availability=drain", node)
		Eventually(func() string { return runningNode(ctx, service, "ccci-sample-app:") }).
			WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(250 * time.Millisecond).Should(BeEmpty())
		out, errOut, code = w.ccci(ctx, "plan", "wc/mn")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(ContainSubstring("STALLED"))
		Expect(out + errOut).To(ContainSubstring("node " + node + " (drained)"))
		before := inspect().Version.Index
		out, errOut, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(1), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*STALLED`))
		Expect(out + errOut).To(ContainSubstring("node " + node + " (drained)"))
		Expect(inspect().Version.Index).To(Equal(before), "nothing deployed over an app away from its data")
		Expect(handEdited()).To(BeTrue())
		st := w.status(ctx)
		Expect(st.FailedVersions).To(BeEmpty(), "a drained node is no verdict on the version")
		stalled, ok := st.Conditions.Get(v1.ConditionStalled)
		Expect(ok).To(BeTrue())
		Expect(stalled.Reason).To(Equal(v1.ReasonDataNodeMoved))
		Expect(st.Conditions.IsTrue(v1.ConditionDrifted)).To(BeTrue())

		By("making " + node + " active again: the task returns to its data and the next sweep corrects the drift")
		docker(ctx, "node", "update", "--availability=active", node)
		Eventually(func() string { return runningNode(ctx, service, "ccci-sample-app:1.1") }).
			WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(250 * time.Millisecond).Should(Equal(node))
		out, errOut, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*CORRECTED`))
		Expect(handEdited()).To(BeFalse(), "the hand edit is gone from the service Swarm holds")
		Expect(inspect().Spec.Labels[v1.VersionLabel(w.stack)]).To(Equal("1.1.0+1.1"))
		st = w.status(ctx)
		Expect(st.Conditions.IsTrue(v1.ConditionDrifted)).To(BeFalse())
		Expect(st.Conditions.IsTrue(v1.ConditionStalled)).To(BeFalse())
		Expect(st.FailedVersions).To(BeEmpty())
	}, NodeTimeout(12*time.Minute))
})
