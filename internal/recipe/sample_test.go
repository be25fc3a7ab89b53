package recipe_test

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

var _ = Describe("the sample recipe", func() {
	var src *recipe.Source

	BeforeEach(func(ctx SpecContext) {
		dir, err := fixtures.SampleRecipe(filepath.Join(GinkgoT().TempDir(), "sample"))
		Expect(err).NotTo(HaveOccurred())
		src, err = recipe.Open(ctx, "sample", dir, recipe.Options{CacheDir: GinkgoT().TempDir(), FetchInterval: time.Hour})
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(60*time.Second))

	It("has the sample versions in order, 2.0.0+2.0 a major bump over the previous", func(ctx SpecContext) {
		vs, err := src.Versions(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(tagsOf(vs)).To(Equal(fixtures.SampleRecipeTags))
		latest, _ := vs.Latest()
		prev, ok := vs.Previous(latest)
		Expect(ok).To(BeTrue())
		Expect(prev.Tag).To(Equal("1.2.0+1.2"))
		Expect(recipe.IsMajorBump(prev, latest)).To(BeTrue())
	}, NodeTimeout(30*time.Second))

	contentsOf := func(ctx SpecContext, tag string) *recipe.Contents {
		commit, err := src.Resolve(ctx, tag, 0)
		Expect(err).NotTo(HaveOccurred())
		co, err := src.Checkout(ctx, commit)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(co.Release)
		c, err := recipe.ReadContents(co.Dir, nil, tag)
		Expect(err).NotTo(HaveOccurred())
		return c
	}

	It("reads 1.0.0+1.0 without the worker overlay", func(ctx SpecContext) {
		c := contentsOf(ctx, "1.0.0+1.0")
		Expect(c.ComposeFiles).To(Equal([]string{"compose.yml"}))
		Expect(c.Env).To(HaveKeyWithValue("MOTD_VERSION", "v1"))
		Expect(c.Env).To(HaveKeyWithValue("SAMPLE_UNHEALTHY", "false"))
		Expect(c.Secrets).To(Equal(map[string]recipe.SecretSpec{
			"db_password": {EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 24, Generate: true},
		}))
		Expect(c.ManualMigration).To(BeFalse())
	}, NodeTimeout(30*time.Second))

	It("reads 2.0.0+2.0 with the overlay and its manual migration note", func(ctx SpecContext) {
		c := contentsOf(ctx, "2.0.0+2.0")
		Expect(c.ComposeFiles).To(Equal([]string{"compose.yml", "compose.worker.yml"}))
		Expect(c.Env).To(HaveKeyWithValue("MOTD_VERSION", "v2"))
		Expect(c.ReleaseNote).To(ContainSubstring("Manual migration required"))
		Expect(c.ManualMigration).To(BeTrue())
	}, NodeTimeout(30*time.Second))
})
