//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

// readmeDemoCommands are the commands the README tells a newcomer to run beside `make demo`:
// the lines of its first sh block that start with bin/ccci-controller, comments cut.
func readmeDemoCommands() []string {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(fixtures.RepoRoot(), "README.md"))
	Expect(err).NotTo(HaveOccurred())
	var cmds []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(data), -1) {
		for _, line := range strings.Split(block[1], "\n") {
			if strings.HasPrefix(line, "bin/ccci-controller ") {
				cmd, _, _ := strings.Cut(line, "#")
				cmds = append(cmds, strings.TrimSpace(cmd))
			}
		}
		if len(cmds) > 0 {
			break
		}
	}
	return cmds
}

var _ = Describe("the README's commands beside the demo", func() {
	It("work as printed, from the directory the demo runs in, with no flags", func(ctx SpecContext) {
		cmds := readmeDemoCommands()
		Expect(cmds).To(HaveLen(4), "the README's commands: %q", cmds)
		for i, verb := range []string{"get", "describe wc/sample", "plan --all", "logs rt/sample"} {
			Expect(cmds[i]).To(Equal("bin/ccci-controller "+verb), "the spec's objects are named as the demo's")
		}

		By("running the daemon the way make demo does: state in .state under the working directory")
		w := newWorld()
		// The README's commands name the demo's objects.
		w.name = "sample"
		w.state = filepath.Join(w.dir, ".state")
		Expect(os.MkdirAll(filepath.Join(w.dir, "bin"), 0o755)).To(Succeed())
		Expect(os.Symlink(ccciBinary(), filepath.Join(w.dir, "bin", "ccci-controller"))).To(Succeed())
		w.writeRecipeTest()
		w.writeWarmCanonical(tag11)
		w.startDaemon(ctx)
		Eventually(w.deployedVersion).WithContext(ctx).WithTimeout(3*time.Minute).WithPolling(time.Second).Should(Equal(tag11),
			"the demo's warm app promoted, read from Swarm")
		Eventually(w.ready).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(Equal("True/Promoted"))

		By("running each command as printed, in a shell, in that directory")
		wants := [][]string{
			{"sample", "Promoted"},
			{"Name:  sample", "Kind:  WarmCanonical", tag11},
			{"sample", "CONVERGED"},
			{"of RecipeTest sample: Passed", "==> install: Passed"},
		}
		for i, cmd := range cmds {
			c := exec.CommandContext(ctx, "bash", "-c", cmd)
			c.Dir = w.dir
			out, err := c.CombinedOutput()
			GinkgoWriter.Printf("$ %s\n%s", cmd, out)
			Expect(err).NotTo(HaveOccurred(), "%s:\n%s", cmd, out)
			for _, want := range wants[i] {
				Expect(string(out)).To(ContainSubstring(want), cmd)
			}
		}
	}, NodeTimeout(5*time.Minute))
})
