package recipe_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/gomega"
)

// writeTree writes files (path -> content) below dir.
func writeTree(dir string, files map[string]string) {
	for name, content := range files {
		path := filepath.Join(dir, name)
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())
	}
}

// origin is a recipe repository made for a test, standing in for the forge.
type origin struct{ dir string }

func newOrigin(dir string) *origin {
	o := &origin{dir: dir}
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	o.git("init", "--quiet", "--initial-branch=main")
	return o
}

func (o *origin) git(args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.org",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.org",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// commit writes files, removes those mapped to "", commits and returns the commit id.
func (o *origin) commit(msg string, files map[string]string) string {
	for name, content := range files {
		if content == "" {
			o.git("rm", "--quiet", name)
			continue
		}
		writeTree(o.dir, map[string]string{name: content})
		o.git("add", name)
	}
	o.git("commit", "--quiet", "--allow-empty", "-m", msg)
	return o.git("rev-parse", "HEAD")
}

const composeV1 = `version: "3.8"
services:
  app:
    image: ccci-sample-app:1.0
    deploy:
      labels:
        backupbot.backup: "true"
`

const composeWorker = `version: "3.8"
services:
  worker:
    image: ccci-sample-app:1.0
`
