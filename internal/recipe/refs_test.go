package recipe_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("Source refs", func() {
	var (
		repo *sampleRepo
		opts recipe.Options
	)

	BeforeEach(func() {
		repo = newSampleRepo(filepath.Join(GinkgoT().TempDir(), "sample"))
		opts = recipe.Options{CacheDir: GinkgoT().TempDir(), FetchInterval: time.Hour}
	})

	open := func(ctx context.Context) *recipe.Source {
		src, err := recipe.Open(ctx, "sample", repo.dir, opts)
		Expect(err).NotTo(HaveOccurred())
		return src
	}

	It("reads the refs once and resolves every tag and branch after that from memory", func(ctx SpecContext) {
		src := open(ctx)
		_, err := src.Versions(ctx)
		Expect(err).NotTo(HaveOccurred())
		before := recipe.ProcessesStarted()
		for range 200 {
			vs, err := src.Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).To(Equal([]string{"1.0.0+1.0", "1.1.0+1.1", "2.0.0+2.0"}))
			Expect(src.Resolve(ctx, "1.0.0+1.0", 0)).To(Equal(repo.v100)) // annotated: peeled
			Expect(src.Resolve(ctx, "1.1.0+1.1", 0)).To(Equal(repo.v110))
			Expect(src.Resolve(ctx, "feature", 0)).To(Equal(repo.feature))
			Expect(src.Resolve(ctx, repo.v200, 0)).To(Equal(repo.v200))
		}
		Expect(recipe.ProcessesStarted() - before).To(BeZero())
	}, NodeTimeout(60*time.Second))

	It("opens a cached mirror and reads its refs without starting git", func(ctx SpecContext) {
		_, err := open(ctx).Versions(ctx)
		Expect(err).NotTo(HaveOccurred())
		before := recipe.ProcessesStarted()
		src := open(ctx) // a second process: the mirror was fetched within FetchInterval
		Expect(src.Resolve(ctx, "2.0.0+2.0", 0)).To(Equal(repo.v200))
		Expect(recipe.ProcessesStarted() - before).To(BeZero())
	}, NodeTimeout(60*time.Second))

	Context("when a tag moves", func() {
		It("sees the new commit after a fetch, also one by another process", func(ctx SpecContext) {
			src := open(ctx)
			Expect(src.Resolve(ctx, "1.1.0+1.1", 0)).To(Equal(repo.v110))
			moved := repo.commit("fix: retag", map[string]string{"fix.txt": "1\n"})
			repo.git("tag", "-f", "-a", "-m", "moved", "1.1.0+1.1", moved)

			other := open(ctx)
			Expect(other.Fetch(ctx, true)).To(Succeed())
			Expect(src.Resolve(ctx, "1.1.0+1.1", 0)).To(Equal(moved))
			Expect(other.Resolve(ctx, "1.1.0+1.1", 0)).To(Equal(moved))
		}, NodeTimeout(60*time.Second))
	})
})
