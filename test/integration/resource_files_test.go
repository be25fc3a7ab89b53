//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// The resource-file specs of the controller (issue #26), apart from controllers_test.go for
// size: they share its world.
var _ = Describe("the controller on a real Swarm, with its resource files", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld()
		w.writeRecipeTest()
	})

	Context("when a resource file turns invalid, unreadable or absent while the daemon runs", func() {
		It("keeps the last good spec with a condition naming the file, touches no service, and forgets without undeploying", func(ctx SpecContext) {
			Expect(os.Remove(filepath.Join(w.resources, "rt.yaml"))).To(Succeed())
			w.writeWarmCanonical(tag10)
			d := w.startDaemon(ctx, "--resource-settle", "4s")
			By("a WarmCanonical naming a missing RecipeTest")
			Eventually(w.ready).WithContext(ctx).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).
				Should(Equal("False/" + v1.ReasonRecipeTestNotFound))
			By("being reconciled as soon as its RecipeTest appears")
			w.writeRecipeTest()
			Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))
			indexes := w.serviceIndexes(ctx)
			lastGood := func() string {
				c, _ := w.status().Conditions.Get(v1.ConditionLastGoodSpec)
				return string(c.Status) + "/" + c.Reason + "/" + c.Message
			}

			By("breaking the WarmCanonical's file: invalid YAML")
			w.write("wc.yaml", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: "+w.name+"\nspec:\n  version: [\n")
			Eventually(lastGood).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(100 * time.Millisecond).
				Should(And(HavePrefix("True/"+v1.ReasonFileInvalid+"/"), ContainSubstring("wc.yaml"), ContainSubstring("invalid YAML")))
			Expect(w.ready()).To(Equal("True/" + v1.ReasonPromoted))
			Expect(w.status().Conditions.IsTrue(v1.ConditionStalled)).To(BeFalse())
			out, _, code := w.ccci(ctx, "get", "rt", w.name)
			Expect(code).To(Equal(0))
			Expect(out).NotTo(ContainSubstring(v1.ReasonInvalidSpec))

			By("making it unreadable: a symbolic link to itself, which not even root can open")
			wc := filepath.Join(w.resources, "wc.yaml")
			Expect(os.Remove(wc)).To(Succeed())
			Expect(os.Symlink("wc.yaml", wc)).To(Succeed())
			Eventually(lastGood).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(100 * time.Millisecond).
				Should(And(HavePrefix("True/"+v1.ReasonFileUnreadable+"/"), ContainSubstring("wc.yaml: cannot read")))

			By("fixing it")
			Expect(os.Remove(wc)).To(Succeed())
			w.writeWarmCanonical(tag10)
			Eventually(lastGood).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal("/" + "/"))
			Expect(w.ready()).To(Equal("True/" + v1.ReasonPromoted))

			By("rewriting the directory: both files absent for half a second")
			rt, err := os.ReadFile(filepath.Join(w.resources, "rt.yaml"))
			Expect(err).NotTo(HaveOccurred())
			wcData, err := os.ReadFile(wc)
			Expect(err).NotTo(HaveOccurred())
			Expect(os.Remove(filepath.Join(w.resources, "rt.yaml"))).To(Succeed())
			Expect(os.Remove(wc)).To(Succeed())
			Eventually(lastGood).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).
				Should(HavePrefix("True/" + v1.ReasonFileAbsent + "/"))
			w.write("rt.yaml", string(rt))
			w.write("wc.yaml", string(wcData))
			Eventually(lastGood).WithContext(ctx).WithTimeout(5 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal("/" + "/"))
			Consistently(w.ready).WithContext(ctx).WithTimeout(6 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal("True/" + v1.ReasonPromoted))

			By("removing the WarmCanonical's file for good: forgotten after the settle time, its stack untouched")
			Expect(os.Remove(wc)).To(Succeed())
			Eventually(w.ready).WithContext(ctx).WithTimeout(15 * time.Second).WithPolling(200 * time.Millisecond).
				Should(Equal(string(v1.ConditionUnknown) + "/" + v1.ReasonRemoved))
			out, _, code = w.ccci(ctx, "describe", "wc/"+w.name)
			Expect(code).To(Equal(0))
			Expect(out).To(ContainSubstring("forgotten, not undeployed"))
			Expect(w.deployedVersion(ctx)).To(Equal(tag10))
			Expect(w.serviceIndexes(ctx)).To(Equal(indexes), "no service was updated, removed or redeployed")
			Expect(stackConverged(ctx, w.stack)).To(BeTrue())
			Expect(d.cmd.Process.Signal(syscall.Signal(0))).To(Succeed())
		}, NodeTimeout(4*time.Minute))
	})
})
