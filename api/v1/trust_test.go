package v1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("RecipeTestSpec.TrustOf", func() {
	DescribeTable("decides the trust of a ref",
		func(spec v1.Trust, pr, tag, branch bool, want v1.Trust) {
			s := v1.RecipeTestSpec{Trust: spec}
			Expect(s.TrustOf(pr, tag, branch)).To(Equal(want))
		},
		Entry("a release tag is trusted", v1.Trust(""), false, true, false, v1.TrustTrusted),
		Entry("the default branch is trusted", v1.Trust(""), false, false, true, v1.TrustTrusted),
		Entry("a pull request is untrusted", v1.Trust(""), true, false, false, v1.TrustUntrusted),
		Entry("a pull request whose head is tagged is untrusted", v1.Trust(""), true, true, false, v1.TrustUntrusted),
		Entry("another branch or commit is untrusted", v1.Trust(""), false, false, false, v1.TrustUntrusted),
		Entry("spec.trust: trusted extends trust to pull requests", v1.TrustTrusted, true, false, false, v1.TrustTrusted),
		Entry("spec.trust: untrusted holds for tags too", v1.TrustUntrusted, false, true, false, v1.TrustUntrusted),
	)
})
