package recipe_test

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// holder is a second process (this test binary, see holdCheckout) holding a checkout.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startHolder(cache, url, commit string) *holder {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecipe$")
	cmd.Env = append(os.Environ(), holderEnv+"="+cache+"|"+url+"|"+commit)
	stdin, err := cmd.StdinPipe()
	Expect(err).NotTo(HaveOccurred())
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	h := &holder{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	DeferCleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := h.out.ReadString('\n')
	Expect(err).NotTo(HaveOccurred())
	Expect(line).To(HavePrefix("holding "), "second process: %s", line)
	return h
}

// release lets the holder release its checkout and exit normally.
func (h *holder) release() {
	Expect(h.stdin.Close()).To(Succeed())
	line, err := h.out.ReadString('\n')
	Expect(err).NotTo(HaveOccurred())
	Expect(line).To(Equal("released\n"))
	Expect(h.cmd.Wait()).To(Succeed())
}

// crash kills the holder without a chance to clean up.
func (h *holder) crash() {
	Expect(h.cmd.Process.Kill()).To(Succeed())
	_ = h.cmd.Wait()
}

var _ = Describe("Checkout", func() {
	var (
		repo  *sampleRepo
		cache string
		src   *recipe.Source
	)

	BeforeEach(func(ctx SpecContext) {
		repo = newSampleRepo(filepath.Join(GinkgoT().TempDir(), "sample"))
		cache = GinkgoT().TempDir()
		var err error
		src, err = recipe.Open(ctx, "sample", repo.dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour, KeepTrees: -1}) // sharing alone; keeping is treecache_test.go's
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(30*time.Second))

	checkout := func(ctx context.Context, ref string) *recipe.Checkout {
		commit, err := src.Resolve(ctx, ref, 0)
		Expect(err).NotTo(HaveOccurred())
		co, err := src.Checkout(ctx, commit)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(co.Release)
		return co
	}

	It("gives the tree of the commit, with the overlay only in versions that have it", func(ctx SpecContext) {
		old, cur := checkout(ctx, "1.0.0+1.0"), checkout(ctx, "1.1.0+1.1")
		Expect(old.Commit).To(Equal(repo.v100))
		Expect(filepath.Join(old.Dir, "compose.yml")).To(BeARegularFile())
		Expect(filepath.Join(old.Dir, "compose.worker.yml")).NotTo(BeAnExistingFile())
		Expect(filepath.Join(cur.Dir, "compose.worker.yml")).To(BeARegularFile())

		By("reading each version's contents")
		c, err := recipe.ReadContents(old.Dir, nil, "1.0.0+1.0")
		Expect(err).NotTo(HaveOccurred())
		Expect(c.ComposeFiles).To(Equal([]string{"compose.yml"}))
		Expect(c.ReleaseNote).To(Equal("First release.\n"))
		Expect(c.Secrets).To(HaveKeyWithValue("db_password", recipe.SecretSpec{EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 24, Generate: true}))
		c, err = recipe.ReadContents(cur.Dir, nil, "1.1.0+1.1")
		Expect(err).NotTo(HaveOccurred())
		Expect(c.ComposeFiles).To(Equal([]string{"compose.yml", "compose.worker.yml"}))
	}, NodeTimeout(30*time.Second))

	It("is read-only", func(ctx SpecContext) {
		co := checkout(ctx, "2.0.0+2.0")
		By("having no write permission on any file or directory")
		Expect(filepath.WalkDir(co.Dir, func(path string, d fs.DirEntry, err error) error {
			Expect(err).NotTo(HaveOccurred())
			info, err := d.Info()
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Mode().Perm()&0o222).To(BeZero(), "%s is writable: %v", path, info.Mode())
			return nil
		})).To(Succeed())
		if os.Geteuid() != 0 {
			// root ignores permission bits, so only a normal user can see the writes fail.
			By("refusing writes")
			Expect(os.WriteFile(filepath.Join(co.Dir, "compose.yml"), []byte("x"), 0o644)).NotTo(Succeed())
			Expect(os.WriteFile(filepath.Join(co.Dir, "new.txt"), []byte("x"), 0o644)).NotTo(Succeed())
			Expect(os.Remove(filepath.Join(co.Dir, "release", "2.0.0+2.0"))).NotTo(Succeed())
		}
		data, err := os.ReadFile(filepath.Join(co.Dir, "release", "2.0.0+2.0"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(Equal("Manual migration required.\n"))
	}, NodeTimeout(30*time.Second))

	It("keeps executable bits and symbolic links", func(ctx SpecContext) {
		writeTree(repo.dir, map[string]string{"hooks/run.sh": "#!/bin/sh\n"})
		Expect(os.Chmod(filepath.Join(repo.dir, "hooks/run.sh"), 0o755)).To(Succeed())
		Expect(os.Symlink("compose.yml", filepath.Join(repo.dir, "link.yml"))).To(Succeed())
		repo.git("add", "hooks/run.sh", "link.yml")
		repo.git("commit", "--quiet", "-m", "hooks")
		Expect(src.Fetch(ctx, true)).To(Succeed())
		co := checkout(ctx, "main")
		info, err := os.Stat(filepath.Join(co.Dir, "hooks/run.sh"))
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o555)))
		Expect(os.Readlink(filepath.Join(co.Dir, "link.yml"))).To(Equal("compose.yml"))
	}, NodeTimeout(30*time.Second))

	Context("when two runs check out the same commit at once", func() {
		It("shares one tree that outlives the first release", func(ctx SpecContext) {
			other, err := recipe.Open(ctx, "sample", repo.dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour, KeepTrees: -1})
			Expect(err).NotTo(HaveOccurred())
			const runs = 4
			cos := make([]*recipe.Checkout, runs)
			errs := make([]error, runs)
			var wg sync.WaitGroup
			for i := range runs {
				s := src
				if i%2 == 1 {
					s = other
				}
				wg.Go(func() { cos[i], errs[i] = s.Checkout(ctx, repo.v110) })
			}
			wg.Wait()
			for i := range runs {
				Expect(errs[i]).NotTo(HaveOccurred())
				Expect(cos[i].Dir).To(Equal(cos[0].Dir))
			}
			entries, err := os.ReadDir(filepath.Join(cache, "sample", "trees"))
			Expect(err).NotTo(HaveOccurred())
			var dirs []string
			for _, e := range entries {
				if e.IsDir() {
					dirs = append(dirs, e.Name())
				}
			}
			Expect(dirs).To(Equal([]string{repo.v110}))

			By("keeping the tree while any run uses it")
			for i := range runs - 1 {
				cos[i].Release()
				cos[i].Release() // twice is harmless
				Expect(filepath.Join(cos[0].Dir, "compose.worker.yml")).To(BeARegularFile())
			}

			By("removing it after the last release")
			cos[runs-1].Release()
			Expect(cos[0].Dir).NotTo(BeAnExistingFile())
		}, NodeTimeout(30*time.Second))
	})

	Context("when another process uses the tree", func() {
		It("leaves it to that process", func(ctx SpecContext) {
			h := startHolder(cache, repo.dir, repo.v200)
			co, err := src.Checkout(ctx, repo.v200)
			Expect(err).NotTo(HaveOccurred())
			co.Release()
			Expect(filepath.Join(co.Dir, "compose.yml")).To(BeARegularFile(), "still held by the other process")

			By("not cleaning it up on Open either")
			_, err = recipe.Open(ctx, "sample", repo.dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
			Expect(err).NotTo(HaveOccurred())
			Expect(filepath.Join(co.Dir, "compose.yml")).To(BeARegularFile())

			By("removing it when the other process releases it last")
			h.release()
			Expect(co.Dir).NotTo(BeAnExistingFile())
		}, NodeTimeout(60*time.Second))

		It("removes trees of a crashed process on the next Open", func(ctx SpecContext) {
			h := startHolder(cache, repo.dir, repo.v100)
			dir := filepath.Join(cache, "sample", "trees", repo.v100)
			Expect(dir).To(BeADirectory())
			h.crash()
			Expect(dir).To(BeADirectory(), "nobody cleaned up yet")
			_, err := recipe.Open(ctx, "sample", repo.dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
			Expect(err).NotTo(HaveOccurred())
			Expect(dir).NotTo(BeAnExistingFile())
			leftovers, err := filepath.Glob(dir + "*")
			Expect(err).NotTo(HaveOccurred())
			Expect(leftovers).To(BeEmpty())
		}, NodeTimeout(60*time.Second))
	})

	Context("when the tree's contents are bad", func() {
		It("names the recipe, version and commit", func(ctx SpecContext) {
			co := checkout(ctx, "1.0.0+1.0")
			_, err := co.Contents([]string{"compose.lfs.yml"}, "1.0.0+1.0")
			Expect(err).To(MatchError(HavePrefix(`recipe sample 1.0.0+1.0 (commit ` + repo.v100[:12] + `): compose file "compose.lfs.yml" from the given compose files`)))
			_, err = co.Contents([]string{"compose.lfs.yml"}, "")
			Expect(err).To(MatchError(HavePrefix(`recipe sample commit ` + repo.v100[:12] + `: compose file "compose.lfs.yml"`)))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the commit is not usable", func() {
		It("wants a full commit id", func(ctx SpecContext) {
			_, err := src.Checkout(ctx, repo.v100[:8])
			Expect(err).To(MatchError(`recipe sample: checkout "` + repo.v100[:8] + `": want a full commit id, as returned by Resolve`))
		}, NodeTimeout(30*time.Second))

		It("says the commit is not in the mirror", func(ctx SpecContext) {
			unknown := strings.Repeat("ab", 20)
			_, err := src.Checkout(ctx, unknown)
			Expect(err).To(MatchError(ContainSubstring("recipe sample: checkout " + unknown + ": commit is not in the mirror of " + repo.dir)))
			Expect(filepath.Join(cache, "sample", "trees", unknown)).NotTo(BeAnExistingFile())
		}, NodeTimeout(30*time.Second))
	})
})
