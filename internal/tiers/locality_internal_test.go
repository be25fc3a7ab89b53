package tiers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("movedAway", func() {
	svc := func(volumes []string, nodes ...string) swarm.StackState {
		return swarm.StackState{Services: []swarm.ServiceState{{Name: "ccci_x_1_up_db", Volumes: volumes, Nodes: nodes}}}
	}
	It("aborts, naming service, volume and nodes, when the upgrade moved a stateful task", func() {
		err := movedAway(svc([]string{"ccci_x_1_up_data"}, "n2"), svc([]string{"ccci_x_1_up_data"}, "n3"))
		Expect(err).To(MatchError(ContainSubstring("service ccci_x_1_up_db with volume ccci_x_1_up_data moved from node n2 to node n3")))
		Expect(err).To(BeAssignableToTypeOf(&swarmMoveError{}))
	})
	It("lets a stateless task or one that stayed be", func() {
		Expect(movedAway(svc(nil, "n2"), svc(nil, "n3"))).To(Succeed())
		Expect(movedAway(svc([]string{"v"}, "n2"), svc([]string{"v"}, "n2"))).To(Succeed())
	})
})
