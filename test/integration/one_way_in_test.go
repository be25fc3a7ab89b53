//go:build integration

package integration

import (
	"os/exec"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

const tag21 = "2.1.0+2.0"

var _ = Describe("a sweep --server whose client is killed mid-promotion", func() {
	It("leaves the promotion to the daemon's queue, which completes it", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical("latest")
		d := w.startDaemon(ctx)
		Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).
			Should(Equal("True/" + v1.ReasonPromoted))
		Expect(w.deployedVersion(ctx)).To(Equal(tag20))

		By("releasing 2.1.0+2.0, which only a sweep notices (the timer is an hour away)")
		w.publish(ctx, tag20, tag21, func(c string) string { return strings.Replace(c, "version="+tag20, "version="+tag21, 1) })

		By("asking for a sweep over HTTP and killing the client while the gating run is under way")
		client := exec.Command(ccciBinary(), w.args("sweep", "--server", d.url)...)
		client.Stdout, client.Stderr = GinkgoWriter, GinkgoWriter
		Expect(client.Start()).To(Succeed())
		Eventually(func() bool {
			for _, r := range w.runs() {
				if r.Version == tag21 {
					return true
				}
			}
			return false
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(BeTrue())
		Expect(w.deployedVersion(ctx)).To(Equal(tag20), "killed before the promotion finished")
		Expect(client.Process.Signal(syscall.SIGKILL)).To(Succeed())
		_ = client.Wait()

		By("reading Swarm: the daemon promoted 2.1.0+2.0 all the same, once")
		Eventually(w.deployedVersion).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Equal(tag21))
		Eventually(stackConverged).WithContext(ctx).WithArguments(w.stack).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())
		Eventually(w.ready).WithContext(ctx).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).
			Should(Equal("True/" + v1.ReasonPromoted))
		var to21 []controllers.Promotion
		for _, p := range w.promotions() {
			if p.To == tag21 {
				to21 = append(to21, p)
			}
		}
		Expect(to21).To(HaveLen(1))
		Expect(to21[0].State).To(Equal(controllers.PromotionSucceeded))
		Expect(d.alive()).To(BeTrue())
	}, NodeTimeout(6*time.Minute))
})
