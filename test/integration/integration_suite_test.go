//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

var (
	// docker is the Engine API client every spec uses.
	docker *client.Client
	// suiteID is this run's value of v1.LabelTestSuite, on everything the suite creates.
	suiteID string
)

func TestIntegration(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Integration Suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suiteID = randomID()
	var err error
	docker, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())

	By("checking that the daemon answers and runs in swarm mode")
	info, err := docker.Info(ctx)
	Expect(err).NotTo(HaveOccurred(), "the Docker daemon does not answer; run hack/ensure-swarm.sh (make test does)")
	Expect(info.Swarm.LocalNodeState).To(Equal(swarm.LocalNodeStateActive),
		"the Docker daemon is not in swarm mode; run hack/ensure-swarm.sh (make test does)")
	Expect(info.Swarm.ControlAvailable).To(BeTrue(), "this node is not a swarm manager; run the tests on a manager")

	By("building the sample images")
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
}, NodeTimeout(5*time.Minute))

// AfterSuite removes services a failed or interrupted spec may have left behind; the
// specs' own DeferCleanup normally did it already.
var _ = AfterSuite(func(ctx SpecContext) {
	if docker == nil {
		return
	}
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: suiteFilter()})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		Expect(docker.ServiceRemove(ctx, s.ID)).To(Succeed())
	}
	Expect(docker.Close()).To(Succeed())
}, NodeTimeout(time.Minute))

// suiteLabels returns the labels every object a spec creates must carry.
func suiteLabels() map[string]string {
	return map[string]string{v1.LabelTestSuite: suiteID}
}

// suiteFilter matches the objects of this suite run.
func suiteFilter() filters.Args {
	return filters.NewArgs(filters.Arg("label", v1.LabelTestSuite+"="+suiteID))
}

// randomID returns 8 random hex characters: a unique suffix for names and the suite id.
func randomID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// contextWithoutCancel detaches clean-up from a spec context that may already be done.
func contextWithoutCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}
