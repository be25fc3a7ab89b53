package v1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

func validRecipeTest() *v1.RecipeTest {
	return &v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "gitea"}, Spec: v1.RecipeTestSpec{Source: v1.Source{Git: "https://example.org/gitea.git"}}}
}

func fields(errs v1.FieldErrors) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

var _ = Describe("Validate", func() {
	DescribeTable("a RecipeTest reports the field at fault",
		func(mutate func(*v1.RecipeTest), want ...string) {
			r := validRecipeTest()
			mutate(r)
			Expect(fields(r.Validate())).To(Equal(want))
			r.Default()
			Expect(fields(r.Validate())).To(Equal(want), "and the same once defaulted")
		},
		Entry("nothing when valid", func(r *v1.RecipeTest) {}),
		Entry("a name that is not a DNS-1123 label", func(r *v1.RecipeTest) { r.Metadata.Name = "-gitea" }, "metadata.name"),
		Entry("a missing source", func(r *v1.RecipeTest) { r.Spec.Source.Git = "" }, "spec.source.git"),
		Entry("a trust level that is neither trusted nor untrusted", func(r *v1.RecipeTest) { r.Spec.Trust = "maybe" }, "spec.trust"),
		Entry("a branch with a space", func(r *v1.RecipeTest) { r.Spec.Source.Branch = "my branch" }, "spec.source.branch"),
		Entry("an absolute compose file", func(r *v1.RecipeTest) { r.Spec.ComposeFiles = []string{"/etc/compose.yml"} }, "spec.composeFiles[0]"),
		Entry("an env name with a dash", func(r *v1.RecipeTest) { r.Spec.Env = map[string]string{"MY-VAR": "x"} }, "spec.env.MY-VAR"),
		Entry("an unknown tier", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "smoke"}} }, "spec.tiers[0].name"),
		Entry("a tier twice", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "install"}, {Name: "install"}} }, "spec.tiers[1].name"),
		Entry("from on another tier than upgrade", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "install", From: "previous"}} }, "spec.tiers[0].from"),
		Entry("an upgrade base that is no tag", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "upgrade", From: "1.2"}} }, "spec.tiers[0].from"),
		Entry("a custom tier without command", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "custom"}} }, "spec.tiers[0].command"),
		Entry("an image on another tier than custom", func(r *v1.RecipeTest) { r.Spec.Tiers = []v1.Tier{{Name: "install", Image: "probe:1"}} }, "spec.tiers[0].image"),
		Entry("a gate outside the recipe", func(r *v1.RecipeTest) {
			r.Spec.Tiers = []v1.Tier{{Name: "install", When: &v1.TierCondition{FileExists: "../x"}}}
		}, "spec.tiers[0].when.fileExists"),
		Entry("an unknown expectedNA tier", func(r *v1.RecipeTest) { r.Spec.ExpectedNA = []v1.TierName{"backups"} }, "spec.expectedNA[0]"),
		Entry("a negative timeout", func(r *v1.RecipeTest) { r.Spec.Timeout = v1.Minutes(-1) }, "spec.timeout"),
		Entry("all of several problems, in field order", func(r *v1.RecipeTest) {
			r.Metadata.Name = "Gitea"
			r.Spec.Source.Git = ""
			r.Spec.Tiers = []v1.Tier{{Name: "custom"}, {Name: "upgrade", From: "nope"}}
		}, "metadata.name", "spec.source.git", "spec.tiers[0].command", "spec.tiers[1].from"),
	)

	DescribeTable("a WarmCanonical reports the field at fault",
		func(spec v1.WarmCanonicalSpec, want ...string) {
			w := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "gitea"}, Spec: spec}
			Expect(fields(w.Validate())).To(Equal(want))
		},
		Entry("nothing when empty", v1.WarmCanonicalSpec{}),
		Entry("nothing for an exact tag", v1.WarmCanonicalSpec{Version: "1.0.0+v1.6.870-0"}),
		Entry("a version that is not a tag", v1.WarmCanonicalSpec{Version: "3.6"}, "spec.version"),
		Entry("a tag without upstream part", v1.WarmCanonicalSpec{Version: "3.6.0"}, "spec.version"),
		Entry("a RecipeTest name with capitals", v1.WarmCanonicalSpec{RecipeTest: "Gitea"}, "spec.recipeTest"),
		Entry("an unknown image policy", v1.WarmCanonicalSpec{Images: "latest"}, "spec.images"),
		Entry("a stack with a dot", v1.WarmCanonicalSpec{Stack: "gitea.example.org"}, "spec.stack"),
		Entry("an unknown mode", v1.WarmCanonicalSpec{Mode: "asleep"}, "spec.mode"),
		Entry("negative durations", v1.WarmCanonicalSpec{Interval: v1.Minutes(-1), Timeout: v1.Minutes(-1)}, "spec.interval", "spec.timeout"),
	)

	It("says what would be valid", func() {
		w := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "gitea"}, Spec: v1.WarmCanonicalSpec{Mode: "asleep"}}
		Expect(w.Validate().Err()).To(MatchError(`spec.mode: "asleep" is not a mode (valid: live, data)`))
		Expect(validRecipeTest().Validate().Err()).To(Succeed())
	})
})
