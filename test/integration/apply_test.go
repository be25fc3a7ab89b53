//go:build integration

package integration

import (
	"os/exec"
	"time"

	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("an edited spec.env on a real Swarm", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld()
		w.writeRecipeTest()
	})

	// appEnv returns the env of the warm stack's app service as Swarm holds it.
	appEnv := func(ctx SpecContext) []string {
		s, _, err := docker.ServiceInspectWithRaw(ctx, w.stack+"_app", swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		return s.Spec.TaskTemplate.ContainerSpec.Env
	}

	Context("when the warm app already runs the desired version", func() {
		It("applies the new env once, then converges with no Swarm write", func(ctx SpecContext) {
			By("promoting 1.1.0+1.1")
			w.writeWarmCanonical(tag11)
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("PROMOTED"))
			Expect(code).To(Equal(0))
			Expect(appEnv(ctx)).To(ContainElement("DOMAIN="+w.stack+".test.example.org"), "the RecipeTest's env, rendered for the warm stack")
			runs := len(w.runs())

			By("editing only spec.env")
			w.writeWarmCanonical(tag11, "env:", "  DOMAIN: applied.example.org")
			// plan takes no --label (it creates nothing), so it is run without w.args.
			plan, err := exec.CommandContext(ctx, ccciBinary(), "--resources", w.resources, "--state", w.state, "plan", "wc/"+w.name).Output()
			Expect(err).NotTo(HaveOccurred())
			Expect(string(plan)).To(ContainSubstring("APPLY " + tag11 + " (env changed)"))
			out, _, _ := w.ccci(ctx, "describe", "wc/"+w.name)
			Expect(out).To(ContainSubstring("spec.env changed since " + tag11 + " converged: DOMAIN"))

			By("a sweep applying it")
			before := w.serviceIndexes(ctx)
			action, code = w.sweepAction(ctx)
			Expect(action).To(Equal("APPLIED"))
			Expect(code).To(Equal(0))
			Expect(appEnv(ctx)).To(ContainElement("DOMAIN=applied.example.org"))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			Expect(stackConverged(ctx, w.stack)).To(BeTrue())
			Expect(w.ready()).To(Equal("True/" + v1.ReasonApplied))
			Expect(w.runs()).To(HaveLen(runs), "an env edit runs no tests")
			Expect(w.promotions()).To(HaveLen(1), "an apply is not a promotion")
			after := w.serviceIndexes(ctx)
			Expect(after[w.stack+"_app"]).NotTo(Equal(before[w.stack+"_app"]))
			Expect(after[w.stack+"_worker"]).To(Equal(before[w.stack+"_worker"]), "the worker does not use DOMAIN: its service is not updated")

			By("another sweep changing no service")
			action, code = w.sweepAction(ctx)
			Expect(action).To(Equal("CONVERGED"))
			Expect(code).To(Equal(0))
			Expect(w.serviceIndexes(ctx)).To(Equal(after))
			Expect(w.ready()).To(Equal("True/" + v1.ReasonApplied))
		}, NodeTimeout(5*time.Minute))
	})
})
