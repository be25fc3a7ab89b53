package recipe_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// sampleRepo is a recipe repository with three releases, tags that are not releases, a
// feature branch and two pull-request heads that no branch contains.
type sampleRepo struct {
	*origin
	v100, v110, v200, feature, pr7, mr9 string
}

var (
	templateOnce sync.Once
	templateRepo *sampleRepo
)

// newSampleRepo copies a sample repository, built once per suite, into dir: building one
// takes some thirty git commands and most specs need a fresh one they may change.
func newSampleRepo(dir string) *sampleRepo {
	templateOnce.Do(func() {
		base, err := os.MkdirTemp("", "recipe-template-")
		Expect(err).NotTo(HaveOccurred())
		templateRepo = buildSampleRepo(filepath.Join(base, "sample"))
	})
	Expect(os.MkdirAll(filepath.Dir(dir), 0o755)).To(Succeed())
	out, err := exec.Command("cp", "-a", templateRepo.dir, dir).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "copy sample repository: %s", out)
	r := *templateRepo
	r.origin = &origin{dir: dir}
	return &r
}

var _ = AfterSuite(func() {
	if templateRepo != nil {
		Expect(os.RemoveAll(filepath.Dir(templateRepo.dir))).To(Succeed())
	}
})

func buildSampleRepo(dir string) *sampleRepo {
	o := newOrigin(dir)
	r := &sampleRepo{origin: o}
	r.v100 = o.commit("chore: publish 1.0.0+1.0", map[string]string{
		"compose.yml":       composeV1,
		".env.sample":       "DOMAIN=sample.example.com\nSECRET_DB_PASSWORD_VERSION=v1 # length=24\nCOMPOSE_FILE=\"compose.yml\"\n",
		"release/1.0.0+1.0": "First release.\n",
	})
	o.git("tag", "-a", "-m", "1.0.0+1.0", "1.0.0+1.0")
	o.git("tag", "v1.2")
	o.git("tag", "latest")
	r.v110 = o.commit("chore: publish 1.1.0+1.1", map[string]string{
		"compose.worker.yml": composeWorker,
		".env.sample":        "DOMAIN=sample.example.com\nSECRET_DB_PASSWORD_VERSION=v1 # length=24\nCOMPOSE_FILE=\"compose.yml:compose.worker.yml\"\n",
	})
	o.git("tag", "1.1.0+1.1") // lightweight: some recipes have them
	r.v200 = o.commit("chore: publish 2.0.0+2.0", map[string]string{
		"release/2.0.0+2.0": "Manual migration required.\n",
	})
	o.git("tag", "-a", "-m", "2.0.0+2.0", "2.0.0+2.0")

	o.git("checkout", "--quiet", "-b", "feature")
	r.feature = o.commit("feat: try something", map[string]string{"feature.txt": "x\n"})
	o.git("checkout", "--quiet", "-b", "pr-7")
	r.pr7 = o.commit("fix: a pull request", map[string]string{"pr.txt": "7\n"})
	o.git("update-ref", "refs/pull/7/head", r.pr7)
	o.git("checkout", "--quiet", "-b", "mr-9", "main")
	r.mr9 = o.commit("fix: a merge request", map[string]string{"mr.txt": "9\n"})
	o.git("update-ref", "refs/merge-requests/9/head", r.mr9)
	o.git("checkout", "--quiet", "main")
	o.git("branch", "--quiet", "-D", "pr-7", "mr-9")
	return r
}

// testContext bounds git commands of a table entry, which cannot take a NodeTimeout.
func testContext() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	DeferCleanup(cancel)
	return ctx
}

func tagsOf(vs recipe.Versions) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Tag)
	}
	return out
}

// logSink collects log lines of a context logger.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) context(ctx context.Context) context.Context {
	return logr.NewContext(ctx, funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{}))
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
