package recipe_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

func mustVersion(tag string) recipe.Version {
	v, err := recipe.ParseVersion(tag)
	Expect(err).NotTo(HaveOccurred())
	return v
}

var _ = Describe("Version", func() {
	DescribeTable("parsing tags of real recipes",
		func(tag string, major, minor, patch int, upstream string) {
			v, err := recipe.ParseVersion(tag)
			Expect(err).NotTo(HaveOccurred())
			Expect(v).To(Equal(recipe.Version{Major: major, Minor: minor, Patch: patch, Upstream: upstream, Tag: tag}))
		},
		Entry("gitea", "3.5.3+1.24.2", 3, 5, 3, "1.24.2"),
		Entry("upstream with v and build suffix", "1.0.0+v1.6.870-0", 1, 0, 0, "v1.6.870-0"),
		Entry("upstream with flavour", "5.0.3+27.0.1-fpm", 5, 0, 3, "27.0.1-fpm"),
		Entry("zeros", "0.0.0+0", 0, 0, 0, "0"),
		Entry("upstream latest", "0.1.0+latest", 0, 1, 0, "latest"),
		Entry("two-digit numbers", "12.34.56+a", 12, 34, 56, "a"),
	)

	DescribeTable("ignoring tags that are not releases",
		func(tag string) {
			_, err := recipe.ParseVersion(tag)
			Expect(err).To(MatchError(ContainSubstring(tag)))
		},
		Entry("v-prefixed short", "v1.2"),
		Entry("latest", "latest"),
		Entry("a word", "foo"),
		Entry("semver without upstream", "1.2.3"),
		Entry("empty upstream", "1.2.3+"),
		Entry("two numbers", "1.2+3"),
		Entry("four numbers", "1.2.3.4+x"),
		Entry("v-prefixed semver", "v1.2.3+x"),
		Entry("leading zero", "01.2.3+x"),
		Entry("negative", "1.-2.3+x"),
		Entry("empty", ""),
	)

	DescribeTable("Compare",
		func(a, b string, want int) {
			Expect(recipe.Compare(mustVersion(a), mustVersion(b))).To(Equal(want))
			Expect(recipe.Compare(mustVersion(b), mustVersion(a))).To(Equal(-want))
		},
		Entry("minor compared as a number", "2.10.0+x", "2.9.1+y", 1),
		Entry("major first", "10.0.0+1", "9.99.99+1", 1),
		Entry("patch", "1.0.2+1", "1.0.10+1", -1),
		Entry("semver wins over upstream", "1.0.1+1.0", "1.0.0+9.0", 1),
		Entry("upstream breaks ties numerically", "1.0.0+1.10", "1.0.0+1.9", 1),
		Entry("upstream with suffix", "1.0.0+27.0.1-fpm", "1.0.0+27.0.1", 1),
		Entry("equal", "3.5.3+1.24.2", "3.5.3+1.24.2", 0),
	)

	DescribeTable("IsMajorBump",
		func(from, to string, want bool) {
			Expect(recipe.IsMajorBump(mustVersion(from), mustVersion(to))).To(Equal(want))
		},
		Entry("major up", "1.2.0+1.2", "2.0.0+2.0", true),
		Entry("two majors up", "1.2.0+1.2", "3.0.0+2.0", true),
		Entry("minor up", "1.1.0+1.1", "1.2.0+1.2", false),
		Entry("same", "2.0.0+2.0", "2.0.0+2.0", false),
		Entry("downgrade", "2.0.0+2.0", "1.0.0+1.0", false),
		Entry("from zero", "0.9.0+1", "1.0.0+1", true),
	)
})

var _ = Describe("Versions", func() {
	tags := []string{"2.9.1+y", "latest", "1.0.0+1.0", "v1.2", "2.10.0+x", "foo", "1.1.0+1.1", "1.1.0+1.1-a"}
	vs := recipe.NewVersions(tags)

	tagsOf := func(vs recipe.Versions) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Tag)
		}
		return out
	}

	It("keeps release tags only, oldest first", func() {
		Expect(tagsOf(vs)).To(Equal([]string{"1.0.0+1.0", "1.1.0+1.1", "1.1.0+1.1-a", "2.9.1+y", "2.10.0+x"}))
	})

	It("returns the newest as Latest", func() {
		v, ok := vs.Latest()
		Expect(ok).To(BeTrue())
		Expect(v.Tag).To(Equal("2.10.0+x"))
	})

	DescribeTable("Previous returns the newest strictly older version",
		func(of, want string) {
			v, ok := vs.Previous(mustVersion(of))
			if want == "" {
				Expect(ok).To(BeFalse())
				return
			}
			Expect(ok).To(BeTrue())
			Expect(v.Tag).To(Equal(want))
		},
		Entry("of the latest", "2.10.0+x", "2.9.1+y"),
		Entry("of a version with a sibling upstream", "1.1.0+1.1-a", "1.1.0+1.1"),
		Entry("of a version not in the list", "2.0.0+z", "1.1.0+1.1-a"),
		Entry("of the oldest", "1.0.0+1.0", ""),
		Entry("of something older than all", "0.1.0+0", ""),
	)

	It("finds a tag exactly", func() {
		v, err := vs.Find("2.9.1+y")
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(mustVersion("2.9.1+y")))
	})

	Context("when the tag is not a version", func() {
		It("lists the newest five tags, newest first", func() {
			_, err := vs.Find("3.6")
			Expect(errors.Is(err, recipe.ErrVersionNotFound)).To(BeTrue())
			Expect(err).To(MatchError(`"3.6" is not a version tag (newest: 2.10.0+x, 2.9.1+y, 1.1.0+1.1-a, 1.1.0+1.1, 1.0.0+1.0)`))
		})

		It("says so when there are no versions at all", func() {
			_, err := recipe.Versions(nil).Find("1.0.0+1")
			Expect(err).To(MatchError(ContainSubstring("no MAJOR.MINOR.PATCH+UPSTREAM tags")))
			_, ok := recipe.Versions(nil).Latest()
			Expect(ok).To(BeFalse())
		})
	})
})
