//go:build integration

package integration

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("dependsOn between warm apps", func() {
	It("holds the dependent while its dependency is red, and promotes it right after the dependency once fixed", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		proxy := w.name + "-proxy"
		proxyStack := w.stack + "_proxy"
		DeferCleanup(func(ctx SpecContext) {
			c, err := ccciswarm.NewClient()
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Remove(ctx, proxyStack, true)).To(Succeed())
		}, NodeTimeout(time.Minute))
		writeProxy := func(version string) {
			w.write("proxy.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  recipeTest: %s\n  version: %q\n  stack: %s\n  timeout: 1m\n", proxy, w.name, version, proxyStack))
		}
		By("a dependency at a release that never becomes healthy, and an app that depends on it")
		writeProxy(tag12)
		w.writeWarmCanonical(tag11, "dependsOn: ["+proxy+"]")
		w.startDaemon(ctx)
		Eventually(w.ready).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).
			Should(Equal("False/" + v1.ReasonDependencyNotReady))
		c, _ := w.status().Conditions.Get(v1.ConditionReady)
		Expect(c.Message).To(ContainSubstring("dependency " + proxy + " is not Ready"))
		Expect(w.deployedVersion(ctx)).To(BeEmpty(), "nothing of the dependent is deployed")

		By("fixing the dependency: it promotes, and the dependent follows without an interval")
		writeProxy(tag11)
		Eventually(w.ready).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).
			Should(Equal("True/" + v1.ReasonPromoted))
		Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
	}, NodeTimeout(8*time.Minute))

	It("rejects a cycle and a missing dependency in validate, naming them", func(ctx SpecContext) {
		w := newWorld()
		w.write("a.yaml", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: a\nspec:\n  dependsOn: [b, ghost]\n")
		w.write("b.yaml", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: b\nspec:\n  dependsOn: [a]\n")
		out, err := exec.CommandContext(ctx, ccciBinary(), "validate", w.resources).CombinedOutput()
		Expect(err).To(HaveOccurred())
		Expect(err.(*exec.ExitError).ExitCode()).To(Equal(2))
		Expect(string(out)).To(ContainSubstring(`WarmCanonical "a": spec.dependsOn[1]: "ghost" names no WarmCanonical`))
		Expect(strings.Count(string(out), "dependency cycle a → b → a")).To(Equal(2), "both objects of the cycle are named")
	}, NodeTimeout(time.Minute))
})
