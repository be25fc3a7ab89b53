package recipe_test

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("Source keeping trees", func() {
	var (
		repo *sampleRepo
		src  *recipe.Source
	)
	BeforeEach(func(ctx SpecContext) {
		repo = newSampleRepo(filepath.Join(GinkgoT().TempDir(), "sample"))
		var err error
		src, err = recipe.Open(ctx, "sample", repo.dir, recipe.Options{CacheDir: GinkgoT().TempDir(), FetchInterval: time.Hour, KeepTrees: 2})
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(30*time.Second))

	It("extracts a commit once for every object that checks it out, one after another", func(ctx SpecContext) {
		before := recipe.ProcessesStarted()
		var dir string
		for range 200 {
			co, err := src.Checkout(ctx, repo.v110)
			Expect(err).NotTo(HaveOccurred())
			c, err := co.Contents(nil, "1.1.0+1.1")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.ComposeFiles).To(Equal([]string{"compose.yml", "compose.worker.yml"}))
			c.Env["DOMAIN"] = "changed.example.org" // a caller's change stays its own
			dir = co.Dir
			co.Release()
		}
		Expect(recipe.ProcessesStarted()-before).To(BeNumerically("<=", 2), "one check that the commit is there, one git archive")
		Expect(filepath.Join(dir, "compose.worker.yml")).To(BeARegularFile(), "kept after the last release")
		co, err := src.Checkout(ctx, repo.v110)
		Expect(err).NotTo(HaveOccurred())
		defer co.Release()
		c, err := co.Contents(nil, "1.1.0+1.1")
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Env).To(HaveKeyWithValue("DOMAIN", "sample.example.com"))
	}, NodeTimeout(60*time.Second))

	It("gives back the least recently used tree beyond KeepTrees", func(ctx SpecContext) {
		dirs := map[string]string{}
		for _, commit := range []string{repo.v100, repo.v110, repo.v100, repo.v200} {
			co, err := src.Checkout(ctx, commit)
			Expect(err).NotTo(HaveOccurred())
			dirs[commit] = co.Dir
			co.Release()
		}
		Expect(dirs[repo.v110]).NotTo(BeAnExistingFile(), "least recently used")
		Expect(dirs[repo.v100]).To(BeADirectory())
		Expect(dirs[repo.v200]).To(BeADirectory())
	}, NodeTimeout(60*time.Second))

	It("keeps an evicted tree while a run still uses it", func(ctx SpecContext) {
		held, err := src.Checkout(ctx, repo.v100)
		Expect(err).NotTo(HaveOccurred())
		for _, commit := range []string{repo.v110, repo.v200} {
			co, err := src.Checkout(ctx, commit)
			Expect(err).NotTo(HaveOccurred())
			co.Release()
		}
		Expect(filepath.Join(held.Dir, "compose.yml")).To(BeARegularFile())
		held.Release()
		Expect(held.Dir).NotTo(BeAnExistingFile())
	}, NodeTimeout(60*time.Second))
})
