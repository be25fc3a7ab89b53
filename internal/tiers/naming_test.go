package tiers_test

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/tiers"
)

var validStack = regexp.MustCompile(`^[a-z][a-z0-9_]*[a-z0-9]$`)

var _ = Describe("StackName", func() {
	DescribeTable("names a throw-away stack validly and within bounds",
		func(recipe, run, role, want string) {
			got := tiers.StackName(recipe, run, role)
			Expect(got).To(MatchRegexp(validStack.String()))
			Expect(len(got)).To(BeNumerically("<=", 42), "room for _<service> within a 63-character DNS label")
			if want != "" {
				Expect(got).To(Equal(want))
			}
		},
		Entry("a plain recipe", "gitea", "ab12cd34ef56", "", "ccci_gitea_ab12cd34ef56"),
		Entry("the upgrade stack", "gitea", "ab12cd34ef56", "up", "ccci_gitea_ab12cd34ef56_up"),
		Entry("dots and capitals", "My.Recipe-Name", "RUN1", "", "ccci_my_recipe_name_run1"),
		Entry("a very long recipe name", strings.Repeat("verylongrecipename", 5), "ab12cd34ef56", "up", ""),
		Entry("a long run id is hashed", "gitea", "2026-11-25T17:54:44Z-0123456789", "", ""),
		Entry("a recipe of symbols only", "---", "x1", "", "ccci_x1"),
	)

	It("keeps distinct long run ids distinct", func() {
		a := tiers.StackName("r", "2026-11-25T17:54:44Z-aaaa", "")
		b := tiers.StackName("r", "2026-11-25T17:54:44Z-bbbb", "")
		Expect(a).NotTo(Equal(b))
	})

	It("fits a recipe's service names into a DNS label", func() {
		name := tiers.StackName(strings.Repeat("x", 80), tiers.NewRunID(), "up")
		Expect(len(name + "_" + strings.Repeat("s", 20))).To(BeNumerically("<=", 63))
	})
})

var _ = Describe("NewRunID", func() {
	It("returns short distinct ids usable whole in stack names", func() {
		a, b := tiers.NewRunID(), tiers.NewRunID()
		Expect(a).To(MatchRegexp(`^[0-9a-f]{12}$`))
		Expect(a).NotTo(Equal(b))
		Expect(tiers.StackName("gitea", a, "")).To(HaveSuffix(a))
	})
})
