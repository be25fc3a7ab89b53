package tiers_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/tiers"
)

var _ = Describe("RunCommand", func() {
	Context("when the command exits", func() {
		It("passes on exit code 0 with the env and working directory given", func(ctx SpecContext) {
			dir := GinkgoT().TempDir()
			var out bytes.Buffer
			err := tiers.RunCommand(ctx, tiers.Command{
				Args: []string{"sh", "-c", `echo "$STACK_NAME in $(pwd)"`}, Dir: dir,
				Env: map[string]string{"STACK_NAME": "ccci_x_1"}, Timeout: 10 * time.Second,
			}, &out)
			Expect(err).NotTo(HaveOccurred())
			real, _ := filepath.EvalSymlinks(dir)
			Expect(out.String()).To(Equal("ccci_x_1 in " + real + "\n"))
		}, NodeTimeout(20*time.Second))

		It("fails with the exit code otherwise", func(ctx SpecContext) {
			err := tiers.RunCommand(ctx, tiers.Command{Args: []string{"sh", "-c", "echo boom >&2; exit 3"}}, GinkgoWriter)
			Expect(err).To(MatchError(ContainSubstring("exited with code 3")))
		}, NodeTimeout(20*time.Second))

		It("fails when the program does not exist", func(ctx SpecContext) {
			err := tiers.RunCommand(ctx, tiers.Command{Args: []string{"/nonexistent/ccci-test"}}, GinkgoWriter)
			Expect(err).To(HaveOccurred())
		}, NodeTimeout(20*time.Second))
	})

	Context("when the command hangs past its timeout", func() {
		It("kills its whole process group at the timeout", func(ctx SpecContext) {
			pidFile := filepath.Join(GinkgoT().TempDir(), "grandchild.pid")
			// The grandchild ignores nothing and keeps stdout open: a kill of the direct child
			// alone would leave it running and Wait blocked on the pipe.
			err := tiers.RunCommand(ctx, tiers.Command{
				Args:    []string{"sh", "-c", `sleep 300 & echo $! > "$PIDFILE"; wait`},
				Env:     map[string]string{"PIDFILE": pidFile},
				Timeout: 500 * time.Millisecond,
			}, &bytes.Buffer{})
			Expect(err).To(MatchError(context.DeadlineExceeded))

			data, readErr := os.ReadFile(pidFile)
			Expect(readErr).NotTo(HaveOccurred())
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			Eventually(func() error { return syscall.Kill(pid, 0) }).
				WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).
				Should(MatchError(syscall.ESRCH), "the grandchild sleep is gone")
		}, NodeTimeout(30*time.Second))
	})
})
