package swarm

import (
	"archive/tar"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("JobNode", func() {
	nodes := map[string]Node{
		"id1": {Hostname: "mn1", Availability: "active", State: "ready", Labels: map[string]string{"ccci.test": "true"}},
		"id2": {Hostname: "mn2", Availability: "active", State: "ready", Labels: map[string]string{"ccci.test": "true", "db": "yes"}},
		"id3": {Hostname: "mn3", Availability: "drain", State: "ready", Labels: map[string]string{"pr": "yes"}},
		"id4": {Hostname: "mn0", Availability: "active", State: "down", Labels: map[string]string{"ccci.test": "true"}},
	}
	DescribeTable("chooses a usable node that satisfies the placement, the controller's own first",
		func(constraints []string, self, want string) {
			Expect(JobNode("s_custom", constraints, nodes, self)).To(Equal(want))
		},
		Entry("no constraints: the controller's node", nil, "id2", "id2"),
		Entry("no constraints, the controller's node unknown: the first usable by hostname", nil, "", "id1"),
		Entry("a label only another node has", []string{"node.labels.db==yes"}, "id1", "id2"),
		Entry("a down node is passed over although first by hostname", []string{"node.labels.ccci.test==true"}, "id4", "id1"),
		Entry("a != constraint", []string{"node.hostname!=mn1"}, "id1", "id2"),
		Entry("a key not read here is left to Swarm", []string{"node.somethingnew==x"}, "id1", "id1"),
	)

	It("names a constraint no node satisfies as the spec's fault", func() {
		_, err := JobNode("s_custom", []string{"node.labels.nosuch==x"}, nodes, "id1")
		var ce *ConstraintError
		Expect(errors.As(err, &ce)).To(BeTrue())
		Expect(ce.Constraint).To(Equal("node.labels.nosuch==x"))
	})

	It("calls a placement only unusable nodes satisfy the swarm's fault", func() {
		_, err := JobNode("s_custom", []string{"node.labels.pr==yes"}, nodes, "id1")
		Expect(IsEngineFailure(err)).To(BeTrue())
	})
})

var _ = Describe("writableDir", func() {
	It("is one directory entry, writable for every user", func() {
		r, err := writableDir("/artifacts/")
		Expect(err).NotTo(HaveOccurred())
		hdr, err := tar.NewReader(r).Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(hdr.Name).To(Equal("artifacts/"))
		Expect(hdr.Typeflag).To(Equal(byte(tar.TypeDir)))
		Expect(hdr.Mode).To(Equal(int64(0o1777)))
	})

	It("refuses the root", func() {
		_, err := writableDir("/")
		Expect(err).To(MatchError(ContainSubstring("want an absolute path below /")))
	})
})
