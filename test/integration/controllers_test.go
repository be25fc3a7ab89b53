//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("the controller on a real Swarm", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld()
		w.writeRecipeTest()
	})

	Context("when nothing is deployed and the WarmCanonical tracks latest", func() {
		It("tests and promotes the newest version, then converges with no Swarm write", func(ctx SpecContext) {
			w.writeWarmCanonical("latest")
			By("a first sweep testing and promoting")
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("PROMOTED"))
			Expect(code).To(Equal(0))
			Expect(w.deployedVersion(ctx)).To(Equal(tag20))
			Expect(w.runs()).To(HaveLen(1))
			Expect(w.runs()[0].Trigger).To(Equal(v1.TriggerPromotion))
			Expect(w.ready()).To(Equal("True/" + v1.ReasonPromoted))

			By("a second sweep changing no service")
			before := w.serviceIndexes(ctx)
			Expect(before).NotTo(BeEmpty())
			action, code = w.sweepAction(ctx)
			Expect(action).To(Equal("CONVERGED"))
			Expect(code).To(Equal(0))
			Expect(w.serviceIndexes(ctx)).To(Equal(before))
			Expect(w.runs()).To(HaveLen(1))
		}, NodeTimeout(4*time.Minute))
	})

	Context("when the warm stack was deployed by hand with docker stack deploy at the desired version", func() {
		It("reports CONVERGED, AlreadyDeployed, and writes nothing", func(ctx SpecContext) {
			By("deploying 1.1.0+1.1 the way an operator would")
			tree := filepath.Join(w.dir, "tree")
			git := exec.CommandContext(ctx, "git", "clone", "-q", "--branch", tag11, w.recipe, tree)
			Expect(git.CombinedOutput()).Error().NotTo(HaveOccurred())
			secret := w.stack + "_db_password_v1"
			sh := exec.CommandContext(ctx, "sh", "-c", `printf s3cretpassword | docker secret create --label "$SUITE" "$SECRET" - >/dev/null &&
docker stack deploy -c compose.yml "$STACK_NAME"`)
			sh.Dir = tree
			sh.Env = append(os.Environ(), "STACK_NAME="+w.stack, "DOMAIN=hand.example.org", "SAMPLE_UNHEALTHY=false",
				"SECRET_DB_PASSWORD_VERSION=v1", "MOTD_VERSION=v1", "SECRET="+secret, "SUITE="+v1.LabelTestSuite+"="+suiteID)
			out, err := sh.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
			DeferCleanup(func(ctx SpecContext) {
				// The secret is not the stack's (docker stack deploy found it external): remove
				// the stack first, since Swarm refuses to remove a secret in use.
				c, err := ccciswarmClient()
				Expect(err).NotTo(HaveOccurred())
				Expect(c.Remove(ctx, w.stack, true)).To(Succeed())
				Eventually(func() error { return docker.SecretRemove(ctx, secret) }).WithContext(ctx).
					WithTimeout(30 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
			}, NodeTimeout(time.Minute))
			Eventually(func() bool {
				return w.deployedVersion(ctx) == tag11 && stackConverged(ctx, w.stack)
			}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeTrue())

			By("sweeping")
			w.writeWarmCanonical(tag11)
			before := w.serviceIndexes(ctx)
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("CONVERGED"))
			Expect(code).To(Equal(0))
			Expect(w.ready()).To(Equal("True/" + v1.ReasonAlreadyDeployed))
			Expect(w.serviceIndexes(ctx)).To(Equal(before))
			Expect(w.runs()).To(BeEmpty())
		}, NodeTimeout(3*time.Minute))
	})

	Context("when the daemon runs and the YAML is edited to a version whose tests fail", func() {
		It("reconciles at once, keeps the known-good version, and retries only when forced", func(ctx SpecContext) {
			w.writeWarmCanonical(tag11)
			d := w.startDaemon(ctx)
			By("the daemon promoting the first version")
			Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))

			By("editing the file to the unhealthy version")
			w.writeWarmCanonical(tag12)
			edited := time.Now()
			Eventually(func() string { return w.status().DesiredVersion }).WithContext(ctx).WithTimeout(2 * time.Second).WithPolling(50 * time.Millisecond).
				Should(Equal(tag12))
			GinkgoWriter.Printf("edit to reconcile: %s\n", time.Since(edited))
			Eventually(w.ready).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("False/" + v1.ReasonTestsFailed))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			Expect(w.status().KnownGoodVersion).To(Equal(tag11))
			d.stop()
			runs := len(w.runs())

			By("another sweep not re-testing")
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("FAILED"))
			Expect(code).To(Equal(1))
			Expect(w.runs()).To(HaveLen(runs))

			By("reconcile --force re-testing")
			_, _, code = w.ccci(ctx, "reconcile", "wc/"+w.name, "--force")
			Expect(code).To(Equal(1))
			Expect(w.runs()).To(HaveLen(runs + 1))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		}, NodeTimeout(8*time.Minute))
	})

	Context("when a version passes its tests but fails to converge as the warm app", func() {
		It("rolls back to the known-good version with PromotionFailed", func(ctx SpecContext) {
			w.writeWarmCanonical(tag10)
			Expect(w.sweepAction(ctx)).To(Equal("PROMOTED"))
			By("promoting 1.1.0+1.1 with an env only the warm app has")
			w.writeWarmCanonical(tag11, "timeout: 40s", "env:", `  SAMPLE_UNHEALTHY: "true"`)
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("ROLLED-BACK"))
			Expect(code).To(Equal(1))
			Expect(w.runs()[0].Verdict).To(Equal(v1.VerdictPassed))
			Expect(w.deployedVersion(ctx)).To(Equal(tag10))
			Expect(stackConverged(ctx, w.stack)).To(BeTrue())
			Expect(w.status().KnownGoodVersion).To(Equal(tag10))
			Expect(w.ready()).To(Equal("False/" + v1.ReasonPromotionFailed))
		}, NodeTimeout(6*time.Minute))
	})

	Context("when the newest version is a MAJOR bump", func() {
		It("holds it until allowMajor, then promotes it", func(ctx SpecContext) {
			w.writeWarmCanonical(tag11)
			Expect(w.sweepAction(ctx)).To(Equal("PROMOTED"))
			w.writeWarmCanonical("latest")
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("HELD"))
			Expect(code).To(Equal(0))
			Expect(w.ready()).To(Equal("False/" + v1.ReasonMajorUpgradeHeld))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			w.writeWarmCanonical("latest", "allowMajor: true")
			Expect(w.sweepAction(ctx)).To(Equal("PROMOTED"))
			Expect(w.deployedVersion(ctx)).To(Equal(tag20))
		}, NodeTimeout(5*time.Minute))
	})

	Context("when the daemon is killed during a promotion", func() {
		It("converges after a restart with exactly one promotion and no throw-away stack left", func(ctx SpecContext) {
			w.writeWarmCanonical(tag11)
			d := w.startDaemon(ctx)
			By("waiting for the promotion to start, then SIGKILL")
			Eventually(func() string {
				c, _ := w.status().Conditions.Get(v1.ConditionReconciling)
				return c.Reason
			}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(20 * time.Millisecond).Should(Equal(v1.ReasonPromoting))
			d.kill()

			By("restarting")
			w.startDaemon(ctx)
			Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			ps := w.promotions()
			Expect(ps).To(HaveLen(1))
			Expect(ps[0].To).To(Equal(tag11))
			Expect(w.runs()).To(HaveLen(1))
			Expect(testStacks(ctx)).To(BeEmpty())
		}, NodeTimeout(5*time.Minute))
	})

	Context("when the WarmCanonical is switched to data mode", func() {
		It("removes the services and keeps the volumes", func(ctx SpecContext) {
			w.writeWarmCanonical(tag10)
			Expect(w.sweepAction(ctx)).To(Equal("PROMOTED"))
			w.writeWarmCanonical(tag10, "mode: data")
			action, code := w.sweepAction(ctx)
			Expect(action).To(Equal("UNDEPLOYED"))
			Expect(code).To(Equal(0))
			Expect(w.serviceIndexes(ctx)).To(BeEmpty())
			vols, err := docker.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+w.stack))})
			Expect(err).NotTo(HaveOccurred())
			Expect(vols.Volumes).NotTo(BeEmpty())
			Expect(w.ready()).To(Equal("True/" + v1.ReasonDataMode))
			Expect(w.sweepAction(ctx)).To(Equal("SKIP"))
		}, NodeTimeout(3*time.Minute))
	})

	Context("when the daemon is killed during a test run", func() {
		It("removes the leftover test stack at restart, tests again and promotes", func(ctx SpecContext) {
			w.writeWarmCanonical(tag11)
			d := w.startDaemon(ctx)
			By("waiting for the test stack, then SIGKILL")
			Eventually(func() []string { return testStacks(ctx) }).WithContext(ctx).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).
				ShouldNot(BeEmpty())
			d.kill()
			leftover := testStacks(ctx)
			Expect(leftover).NotTo(BeEmpty())

			By("restarting")
			w.startDaemon(ctx)
			Eventually(w.ready).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))
			Expect(testStacks(ctx)).NotTo(ContainElements(leftover))
			Expect(testStacks(ctx)).To(BeEmpty())
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			Expect(w.promotions()).To(HaveLen(1))
		}, NodeTimeout(5*time.Minute))
	})

	Context("when Drone triggers a test of a pull request's ref", func() {
		It("runs the tiers, exits with the verdict, records the trigger, and promotes nothing", func(ctx SpecContext) {
			// Suspended so that the daemon started below leaves the warm app alone too: what
			// is checked is that trigger itself never deploys.
			w.writeWarmCanonical(tag10, "suspend: true")
			out, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11, "--pr", "7", "--src", "coop-cloud/sample")
			Expect(code).To(Equal(0))
			Expect(out).To(MatchRegexp(`install\s+Passed`))
			Expect(errOut).To(ContainSubstring("tier install started"))
			run := w.runs()[0]
			Expect(run.Trigger).To(Equal(v1.TriggerDrone))
			Expect(run.PR).To(Equal(7))
			Expect(run.SourceRepo).To(Equal("coop-cloud/sample"))
			Expect(run.Verdict).To(Equal(v1.VerdictPassed))

			By("a red ref exiting 1")
			_, _, code = w.ccci(ctx, "trigger", "rt/"+w.name, "--ref", tag12, "--pr", "8", "--src", "coop-cloud/sample")
			Expect(code).To(Equal(1))
			Expect(w.runs()[0].Verdict).To(Equal(v1.VerdictFailed))

			By("the same through a running daemon")
			d := w.startDaemon(ctx)
			out, _, code = w.ccci(ctx, "trigger", "rt/"+w.name, "--ref", tag11, "--pr", "9", "--src", "coop-cloud/sample", "--server", d.url)
			Expect(code).To(Equal(0))
			Expect(out).To(MatchRegexp(`install\s+Passed`))
			Expect(w.runs()[0].PR).To(Equal(9))
			Expect(w.runs()[0].Trigger).To(Equal(v1.TriggerDrone))
			d.stop()

			By("a usage error exiting 2")
			_, _, code = w.ccci(ctx, "trigger", "wc/"+w.name, "--ref", tag11)
			Expect(code).To(Equal(2))

			Expect(w.deployedVersion(ctx)).To(BeEmpty())
			Expect(w.status().DesiredVersion).To(BeEmpty())
		}, NodeTimeout(4*time.Minute))
	})

	Context("when an edit, a sweep and a trigger reach the daemon for the same object at once", func() {
		It("runs one test run of the version and promotes once", func(ctx SpecContext) {
			w.writeWarmCanonical(tag10)
			d := w.startDaemon(ctx)
			Eventually(w.ready).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))

			By("editing the file while a sweep and a reconcile are asked over HTTP")
			w.writeWarmCanonical(tag11)
			codes := make(chan int, 2)
			go func() {
				defer GinkgoRecover()
				_, _, code := w.ccci(ctx, "sweep", "--server", d.url)
				codes <- code
			}()
			go func() {
				defer GinkgoRecover()
				_, _, code := w.ccci(ctx, "reconcile", "wc/"+w.name, "--server", d.url)
				codes <- code
			}()
			Eventually(codes).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Receive(Equal(0)))
			Eventually(codes).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Receive(Equal(0)))
			Eventually(w.ready).WithContext(ctx).WithTimeout(time.Minute).WithPolling(500 * time.Millisecond).
				Should(Equal("True/" + v1.ReasonPromoted))
			Expect(w.deployedVersion(ctx)).To(Equal(tag11))
			var of11 []v1.Run
			for _, r := range w.runs() {
				if r.Version == tag11 {
					of11 = append(of11, r)
				}
			}
			Expect(of11).To(HaveLen(1))
			var to11 int
			for _, p := range w.promotions() {
				if p.To == tag11 {
					to11++
				}
			}
			Expect(to11).To(Equal(1))
		}, NodeTimeout(6*time.Minute))
	})
})

// stackConverged reports whether every service of the stack runs all its tasks healthy.
func stackConverged(ctx SpecContext, stack string) bool {
	// Read from Docker itself: every service of the stack has as many running tasks as it asks
	// for, each container healthy when it has a healthcheck, and no update in progress.
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+stack))})
	Expect(err).NotTo(HaveOccurred())
	if len(services) == 0 {
		return false
	}
	for _, s := range services {
		if u := s.UpdateStatus; u != nil && u.State != swarm.UpdateStateCompleted {
			return false
		}
		want := uint64(1)
		if r := s.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
			want = *r.Replicas
		}
		tasks, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID), filters.Arg("desired-state", "running"))})
		Expect(err).NotTo(HaveOccurred())
		var running uint64
		for _, t := range tasks {
			if t.Status.State != swarm.TaskStateRunning || t.Status.ContainerStatus == nil {
				continue
			}
			c, err := docker.ContainerInspect(ctx, t.Status.ContainerStatus.ContainerID)
			if err != nil || (c.State.Health != nil && c.State.Health.Status != "healthy") {
				continue
			}
			running++
		}
		if running != want {
			return false
		}
	}
	return true
}
