//go:build integration

package swarm

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// createIdleStacks creates n one-service stacks directly, with zero replicas so they cost no
// task: enough for Observe, which reads services and tasks, not containers.
func createIdleStacks(ctx context.Context, c *Client, prefix string, n int, suite string) ([]string, error) {
	zero := uint64(0)
	var names []string
	for i := 0; i < n; i++ {
		stack := fmt.Sprintf("%s_%03d", prefix, i)
		spec := swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: stack + "_app", Labels: map[string]string{
				v1.LabelStackNamespace: stack, v1.VersionLabel(stack): "1.0.0+1", v1.LabelTestSuite: suite,
			}},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: testImage + ":1"}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
			EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
		}
		if _, err := c.docker.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{}); err != nil {
			return names, fmt.Errorf("create idle stack %s: %w", stack, err)
		}
		names = append(names, stack)
	}
	return names, nil
}

// removeIdleStacks removes what createIdleStacks made.
func removeIdleStacks(ctx context.Context, c *Client, names []string) {
	for _, n := range names {
		_ = c.docker.ServiceRemove(ctx, n+"_app")
	}
}

var _ = Describe("Observe", func() {
	Context("when there are 50 stacks instead of 1", func() {
		It("uses the same number of API calls, at most two", func(ctx SpecContext) {
			prefix := "swo_" + randomSuffix()
			one, err := createIdleStacks(ctx, cli, prefix+"a", 1, suiteID)
			DeferCleanup(func(ctx SpecContext) { removeIdleStacks(ctx, cli, one) })
			Expect(err).NotTo(HaveOccurred())
			counter.reset()
			states, err := cli.Observe(ctx)
			Expect(err).NotTo(HaveOccurred())
			callsForOne := counter.total()
			Expect(states).To(HaveKey(one[0]))

			fifty, err := createIdleStacks(ctx, cli, prefix+"b", 49, suiteID)
			DeferCleanup(func(ctx SpecContext) { removeIdleStacks(ctx, cli, fifty) })
			Expect(err).NotTo(HaveOccurred())
			counter.reset()
			states, err = cli.Observe(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(counter.total()).To(Equal(callsForOne))
			Expect(callsForOne).To(BeNumerically("<=", 2))
			for _, name := range append(one, fifty...) {
				Expect(states).To(HaveKey(name))
				st := states[name]
				Expect(st.Version).To(Equal("1.0.0+1"))
				Expect(st.Converged()).To(BeTrue(), "a service scaled to 0 is converged")
			}
		}, NodeTimeout(2*time.Minute))
	})
})
