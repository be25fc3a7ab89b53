//go:build faults

package faults

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// mountSmall mounts a tmpfs of size on dir, unmounted when the spec ends.
func mountSmall(dir, size string) {
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	DeferCleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

// fill writes dir/fill until the file system is full, appending to what an earlier fill wrote.
func fill(dir string) {
	f, err := os.OpenFile(filepath.Join(dir, "fill"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	buf := make([]byte, 1<<16)
	for {
		if _, err := f.Write(buf); err != nil {
			Expect(errors.Is(err, syscall.ENOSPC)).To(BeTrue(), "filling %s: %v", dir, err)
			return
		}
	}
}

// stateFilesIntact checks every status and run record under dir: each is whole JSON, and no
// temporary file of a write is left beside them.
func stateFilesIntact(dir string) {
	GinkgoHelper()
	n := 0
	Expect(filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.Contains(path, "/cache/") {
			return err
		}
		Expect(e.Name()).NotTo(ContainSubstring(".tmp-"), "a write's temporary file is left: %s", path)
		Expect(e.Name()).NotTo(HaveSuffix(".corrupt"), "a file was found corrupt: %s", path)
		if strings.HasSuffix(path, ".json") {
			data, err := os.ReadFile(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Valid(data)).To(BeTrue(), "%s is not whole JSON: %q", path, data)
			n++
		}
		return nil
	})).To(Succeed())
	Expect(n).To(BeNumerically(">", 0))
}

var _ = Describe("a full state directory", func() {
	It("aborts the run going with no space left on it, starts none, keeps every file whole, says so on /readyz and /metrics, still answers get and the dashboard, and proceeds once space is freed", func(ctx SpecContext) {
		w := newWorld()
		mountSmall(w.state, "16m")
		w.writeResources(tag11)

		By("filling the disk once a test run's stack is up")
		type result struct {
			stderr string
			code   int
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			_, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag10)
			done <- result{errOut, code}
		}()
		Eventually(runServices).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		fill(w.state)
		var r result
		Eventually(done).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Receive(&r))
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("was aborted, not judged"))
		Expect(r.stderr).To(ContainSubstring("no space left on " + w.state))
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeEmpty())
		stateFilesIntact(w.state)

		By("a daemon started on the full disk starting no run")
		// The aborted run's clean-up freed what its failed writes had taken: full again.
		fill(w.state)
		d := w.startDaemon(ctx)
		Eventually(d.get).WithArguments("/readyz").WithTimeout(20 * time.Second).WithPolling(500 * time.Millisecond).
			Should(And(HavePrefix("503 "), ContainSubstring("no space left on state directory "+w.state)))
		Consistently(leftovers).WithContext(ctx).WithTimeout(15 * time.Second).WithPolling(time.Second).Should(BeEmpty())
		_, err := w.appService(ctx)
		Expect(err).To(HaveOccurred(), "nothing promoted")
		// The daemon's first writes fitted in a full test run here (its start-up freed some
		// space; which part of it is not established): a run asked of it on a disk full again
		// cannot write its record, which the counter counts.
		fill(w.state)
		_, errOut, _ := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag10, "--server", d.url)
		Expect(errOut).To(ContainSubstring("no space left on"))
		Eventually(d.get).WithArguments("/metrics").WithTimeout(10 * time.Second).WithPolling(500 * time.Millisecond).
			Should(MatchRegexp(`(?m)^ccci_state_write_errors_total [1-9]`))
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeEmpty())

		By("get and the dashboard still answering")
		out, _, code := w.ccci(ctx, "get", "wc")
		Expect(code).To(BeZero())
		Expect(out).To(ContainSubstring(w.name))
		Expect(d.get("/")).To(And(HavePrefix("200 "), ContainSubstring(w.name)))
		stateFilesIntact(w.state)

		By("freeing space: the daemon proceeds by itself, judged by Docker")
		freedAt := time.Now()
		Expect(os.Remove(filepath.Join(w.state, "fill"))).To(Succeed())
		Eventually(func() string {
			s, err := w.appService(ctx)
			if err != nil {
				return err.Error()
			}
			return s.Spec.Labels[v1.VersionLabel(w.stack)]
		}).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(2 * time.Second).Should(Equal(tag11))
		AddReportEntry("promoted after space was freed", time.Since(freedAt).Round(time.Second).String())
		Eventually(d.get).WithArguments("/readyz").WithTimeout(20 * time.Second).WithPolling(500 * time.Millisecond).Should(HavePrefix("200 "))
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeEmpty())
		d.kill()
		stateFilesIntact(w.state)
	}, NodeTimeout(15*time.Minute))
})
