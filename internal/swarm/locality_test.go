package swarm

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("LocalityMoves", func() {
	svc := func(name string, volumes []string, nodes ...string) ServiceState {
		return ServiceState{Name: name, Volumes: volumes, Nodes: nodes}
	}
	stack := func(services ...ServiceState) StackState { return StackState{Services: services} }
	DescribeTable("finds the stateful tasks that landed on another node, or run on none",
		func(before, after StackState, want []Move) {
			Expect(LocalityMoves(before.DataNodes(), after)).To(Equal(want))
		},
		Entry("a database that runs nowhere", stack(svc("w_db", []string{"w_db"}, "n2")), stack(svc("w_db", []string{"w_db"})),
			[]Move{{Service: "w_db", Volumes: []string{"w_db"}, From: "n2"}}),
		Entry("a database moved", stack(svc("w_db", []string{"w_db"}, "n2")), stack(svc("w_db", []string{"w_db"}, "n3")),
			[]Move{{Service: "w_db", Volumes: []string{"w_db"}, From: "n2", To: "n3"}}),
		Entry("a stateless service moved", stack(svc("w_app", nil, "n2")), stack(svc("w_app", nil, "n3")), nil),
		Entry("it stayed", stack(svc("w_db", []string{"w_db"}, "n2")), stack(svc("w_db", []string{"w_db"}, "n2")), nil),
		Entry("a new service", stack(), stack(svc("w_db", []string{"w_db"}, "n3")), nil),
		Entry("several tasks", stack(svc("w_db", []string{"w_db"}, "n1", "n2")), stack(svc("w_db", []string{"w_db"}, "n2", "n3")), nil),
	)
})

var _ = Describe("DataAway and NodesGone", func() {
	nodes := map[string]Node{
		"n1": {Hostname: "mn1", Availability: "active", State: "ready"},
		"n2": {Hostname: "mn2", Availability: "drain", State: "ready"},
		"n3": {Hostname: "mn3", Availability: "active", State: "ready"},
	}
	DescribeTable("judges the moves against the nodes",
		func(moves []Move, nodes map[string]Node, unusable []string, message string) {
			err := DataAway(moves, nodes)
			if message == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			loc, ok := err.(*LocalityError)
			Expect(ok).To(BeTrue())
			Expect(loc.Unusable).To(Equal(unusable))
			Expect(loc.Message).To(ContainSubstring(message))
		},
		Entry("moved off a drained node: unusable, named with its state", []Move{{Service: "w_db", Volumes: []string{"w_data"}, From: "n2", To: "n3"}}, nodes,
			[]string{"mn2"}, "service w_db with volume w_data moved from node mn2 (drained) to node mn3"),
		Entry("moved while its node is usable: away, no unusable node", []Move{{Service: "w_db", Volumes: []string{"w_data"}, From: "n1", To: "n3"}}, nodes,
			nil, "moved from node mn1 to node mn3"),
		Entry("no task while its node is drained", []Move{{Service: "w_db", Volumes: []string{"w_data"}, From: "n2"}}, nodes,
			[]string{"mn2"}, "runs no task: its data is on node mn2 (drained)"),
		Entry("no task while its node is usable: starting, not away", []Move{{Service: "w_db", Volumes: []string{"w_data"}, From: "n1"}}, nodes, nil, ""),
		Entry("a swarm of one node initialised again: not a move", []Move{{Service: "w_db", Volumes: []string{"w_data"}, From: "old", To: "n1"}},
			map[string]Node{"n1": nodes["n1"]}, nil, ""),
		Entry("nothing moved", nil, nodes, nil, ""),
	)

	It("says which node went away under a deploy: data first, else the node down", func() {
		before := StackState{Name: "w", Services: []ServiceState{{Name: "w_app", Nodes: []string{"n2"}}, {Name: "w_db", Volumes: []string{"w_data"}, Nodes: []string{"n2"}}}}
		err := NodesGone(before, nodes)
		loc, ok := err.(*LocalityError)
		Expect(ok).To(BeTrue())
		Expect(loc.Unusable).To(Equal([]string{"mn2"}))
		Expect(loc.Message).To(ContainSubstring("service w_db with volume w_data ran on node mn2 (drained)"))

		before.Services = before.Services[:1]
		Expect(NodesGone(before, nodes)).To(Equal(&NodeDownError{Node: "mn2", Stack: "w", State: "drained"}))
		before.Services[0].Nodes = []string{"n1"}
		Expect(NodesGone(before, nodes)).To(Succeed())
	})

	It("says what keeps a stack from converging, an update in progress aside", func() {
		st := StackState{Services: []ServiceState{
			{Name: "w_app", Desired: 1, UpdateState: "updating"},
			{Name: "w_db", Desired: 1, Running: 0, Failures: 2, Errors: []string{"task: non-zero exit (1)"}},
		}}
		Expect(st.Problem()).To(Equal("service w_db runs 0/1 tasks: task: non-zero exit (1)"))
		Expect(st.Failures()).To(Equal(2))
		Expect(st.FailedTasks()).To(Equal("service w_db: 2 tasks failed: task: non-zero exit (1)"))
		Expect(StackState{}.Problem()).To(BeEmpty())
	})
})
