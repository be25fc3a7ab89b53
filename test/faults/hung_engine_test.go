//go:build faults

package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// runVerdicts returns the verdicts of the run records of the world's RecipeTest, read from the
// files.
func (w *world) runVerdicts() []string {
	files, _ := filepath.Glob(filepath.Join(w.state, "runs", w.name, "*", "run.json"))
	out := []string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		var rec struct {
			Verdict string `json:"verdict"`
		}
		if err == nil && json.Unmarshal(data, &rec) == nil {
			out = append(out, rec.Verdict)
		}
	}
	return out
}

var _ = Describe("a Docker daemon that hangs (its process stopped)", func() {
	It("aborts a run within the deadline naming the engine, ends a sweep with ERROR lines, says so on /readyz, and resumes after SIGCONT with no leftover and one deploy", func(ctx SpecContext) {
		w := newWorld()
		w.writeResources(tag11)
		stopped := false
		stop := func() { signalEngine(syscall.SIGSTOP); stopped = true }
		cont := func() {
			if stopped {
				signalEngine(syscall.SIGCONT)
				stopped = false
			}
		}
		DeferCleanup(cont) // whatever happens, the rig's engine runs again

		By("stopping the engine once a test run's stack is up")
		type result struct {
			stderr string
			code   int
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			_, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
			done <- result{errOut, code}
		}()
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		stop()
		stoppedAt := time.Now()
		Eventually(w.runVerdicts).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(ContainElement(string(v1.VerdictAborted)))
		hit := time.Since(stoppedAt)
		GinkgoWriter.Printf("FIGURE hung engine: run Aborted %s after SIGSTOP (deadlines 4s read, 8s write)\n", hit.Round(100*time.Millisecond))
		AddReportEntry("run aborted after SIGSTOP", hit.Round(100*time.Millisecond).String())
		Expect(hit).To(BeNumerically("<", 30*time.Second), "the run waits for one call's deadline, not for ever")

		By("a sweep over the hung engine finishing with an ERROR line, naming the engine")
		sweepStart := time.Now()
		out, errOut, code := w.ccci(ctx, "sweep")
		AddReportEntry("sweep over a hung engine", time.Since(sweepStart).Round(100*time.Millisecond).String())
		Expect(code).To(Equal(1))
		Expect(out).To(MatchRegexp(`(?m)^` + regexp.QuoteMeta(w.name) + `\s.*ERROR`))
		Expect(errOut).To(MatchRegexp(`(?m)^` + regexp.QuoteMeta(w.name) + `: .*` + regexp.QuoteMeta(engine+" does not answer")))

		By("/readyz of a daemon started meanwhile saying the engine does not answer")
		d := w.startDaemon(ctx)
		Eventually(d.get).WithArguments("/readyz").WithTimeout(20 * time.Second).WithPolling(500 * time.Millisecond).
			Should(And(HavePrefix("503 "), ContainSubstring("the Docker engine at "+engine+" does not answer")))
		d.kill()

		By("the trigger reporting the run aborted, naming the engine, once the engine is back")
		cont()
		var r result
		Eventually(done).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Receive(&r))
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("was aborted, not judged"))
		Expect(r.stderr).To(ContainSubstring(engine + " does not answer"))

		By("leaving nothing of the run on Swarm")
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeEmpty())

		By("testing again and promoting exactly once")
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag11)
		Expect(code).To(BeZero())
		out, _, _ = w.ccci(ctx, "sweep")
		Expect(out).To(MatchRegexp(`(?m)^` + regexp.QuoteMeta(w.name) + `\s.*PROMOTED`))
		svc, err := w.appService(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.Labels[v1.VersionLabel(w.stack)]).To(Equal(tag11))
		Expect(svc.PreviousSpec).To(BeNil(), "created once, never updated: no second deploy")
		out, _, _ = w.ccci(ctx, "sweep")
		Expect(out).To(MatchRegexp(`(?m)^` + regexp.QuoteMeta(w.name) + `\s.*CONVERGED`))
		again, err := w.appService(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Version.Index).To(Equal(svc.Version.Index))
		Expect(leftovers(ctx)).To(BeEmpty())
	}, NodeTimeout(12*time.Minute))
})
