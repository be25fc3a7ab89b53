package recipe

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("parsePackedRefs", func() {
	const (
		a = "1111111111111111111111111111111111111111"
		b = "2222222222222222222222222222222222222222"
		c = "3333333333333333333333333333333333333333"
	)
	DescribeTable("reads refs and peels annotated tags",
		func(data string, want map[string]string, wantOK bool) {
			got, ok, err := parsePackedRefs([]byte(data))
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(Equal(wantOK))
			if wantOK {
				Expect(got).To(Equal(want))
			}
		},
		Entry("peeled, a branch, an annotated and a lightweight tag",
			"# pack-refs with: peeled fully-peeled sorted \n"+a+" refs/heads/main\n"+b+" refs/tags/1.0.0+1.0\n^"+c+"\n"+a+" refs/tags/1.1.0+1.1\n",
			map[string]string{"refs/heads/main": a, "refs/tags/1.0.0+1.0": c, "refs/tags/1.1.0+1.1": a}, true),
		Entry("no peeled trait: an annotated tag cannot be told", "# pack-refs with: sorted \n"+a+" refs/tags/x\n", nil, false),
		Entry("no header at all", a+" refs/tags/x\n", nil, false),
	)
	It("rejects a malformed line", func() {
		_, _, err := parsePackedRefs([]byte("# pack-refs with: peeled \nnot a ref line\n"))
		Expect(err).To(MatchError(ContainSubstring("packed-refs: malformed line")))
	})
})
