package swarm

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("UnsatisfiedConstraint", func() {
	nodes := map[string]Node{
		"id1": {Hostname: "mn1", Role: "manager", OS: "linux", Arch: "x86_64", Availability: "active", State: "ready", Labels: map[string]string{"ccci.test": "true"}},
		"id2": {Hostname: "mn2", Role: "worker", OS: "linux", Arch: "x86_64", Availability: "drain", State: "ready", Labels: map[string]string{"db": "yes"}},
	}
	DescribeTable("names the constraint no node of the swarm satisfies",
		func(constraints []string, want string) {
			Expect(UnsatisfiedConstraint(constraints, nodes)).To(Equal(want))
		},
		Entry("a label no node has", []string{"node.role==manager", "node.labels.nosuch==x"}, "node.labels.nosuch==x"),
		Entry("a label with another value", []string{"node.labels.ccci.test==false"}, "node.labels.ccci.test==false"),
		Entry("a hostname no node has", []string{"node.hostname==mn9"}, "node.hostname==mn9"),
		Entry("a label only a drained node has: a fault that passes, not terminal", []string{"node.labels.db==yes"}, ""),
		Entry("values compare without case, as Swarm does", []string{"node.hostname==MN1"}, ""),
		Entry("a != constraint every node meets", []string{"node.hostname!=mn9"}, ""),
		Entry("a != constraint no node meets", []string{"node.platform.os!=linux"}, "node.platform.os!=linux"),
		Entry("a node id", []string{"node.id==id2"}, ""),
		Entry("a key not read here is never judged", []string{"node.somethingnew==x"}, ""),
		Entry("no constraints", nil, ""),
	)

	It("judges nothing without nodes", func() {
		Expect(UnsatisfiedConstraint([]string{"node.labels.nosuch==x"}, nil)).To(BeEmpty())
	})
})
