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

	It("converges a chain on a fresh host in one sweep, without a single failed attempt", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		c, err := ccciswarm.NewClient()
		Expect(err).NotTo(HaveOccurred())
		// proxy ← sso ← app (app needs both); written in the opposite order on purpose.
		names := []string{w.name + "-app", w.name + "-sso", w.name + "-proxy"}
		deps := map[string]string{names[0]: "[" + names[2] + ", " + names[1] + "]", names[1]: "[" + names[2] + "]", names[2]: "[]"}
		var docs strings.Builder
		for i, n := range names {
			stack := fmt.Sprintf("%s_%d", w.stack, i)
			DeferCleanup(func(ctx SpecContext) { Expect(c.Remove(ctx, stack, true)).To(Succeed()) }, NodeTimeout(time.Minute))
			fmt.Fprintf(&docs, "---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  recipeTest: %s\n  version: %q\n  stack: %s\n  timeout: 1m\n  dependsOn: %s\n", n, w.name, tag11, stack, deps[n])
		}
		w.write("chain.yaml", docs.String())
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		var order []string
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && strings.HasPrefix(f[0], w.name+"-") {
				Expect(f[3]).To(Equal("PROMOTED"), line)
				order = append(order, f[0])
			}
		}
		Expect(order).To(Equal([]string{names[2], names[1], names[0]}), "the sweep goes in dependency order")
		Expect(out + errOut).NotTo(Or(ContainSubstring("DependencyNotReady"), ContainSubstring("FAILED"), ContainSubstring("ERROR")))

		By("reading Swarm and the records: each app runs the version, promoted once, with one passed run in all")
		for i, n := range names {
			Expect(stackVersion(ctx, fmt.Sprintf("%s_%d", w.stack, i))).To(Equal(tag11))
			ps := w.promotionsOf(n)
			Expect(ps).To(HaveLen(1), n)
			Expect(string(ps[0].State)).To(Equal("Succeeded"))
		}
		runs := w.runs()
		Expect(runs).To(HaveLen(1), "one run gates the three promotions")
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
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
