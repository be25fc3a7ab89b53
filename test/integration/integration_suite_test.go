//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
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

	swarmEvents.start()

	By("building the sample images")
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
}, NodeTimeout(5*time.Minute))

// AfterSuite removes everything of this suite run a failed or interrupted spec may have left:
// every stack one of the suite's objects names (services, networks, secrets, configs and
// volumes), then any object that still carries the suite's label. The specs' own DeferCleanup
// normally did it already.
var _ = AfterSuite(func(ctx SpecContext) {
	if docker == nil {
		return
	}
	swarmEvents.stop()
	f := suiteFilter()
	stacks := map[string]bool{}
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		stacks[s.Spec.Labels[v1.LabelStackNamespace]] = true
	}
	secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range secrets {
		stacks[s.Spec.Labels[v1.LabelStackNamespace]] = true
		stacks[s.Spec.Labels[v1.LabelSecretOf]] = true
	}
	configs, err := docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, c := range configs {
		stacks[c.Spec.Labels[v1.LabelStackNamespace]] = true
	}
	delete(stacks, "")
	c, err := ccciswarm.NewClient()
	Expect(err).NotTo(HaveOccurred())
	for s := range stacks {
		Expect(c.Remove(ctx, s, true)).To(Succeed(), "remove leftover stack %s", s)
	}
	secrets, _ = docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	for _, s := range secrets {
		Expect(docker.SecretRemove(ctx, s.ID)).To(Succeed())
	}
	configs, _ = docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	for _, c := range configs {
		Expect(docker.ConfigRemove(ctx, c.ID)).To(Succeed())
	}
	nets, _ := docker.NetworkList(ctx, network.ListOptions{Filters: f})
	for _, n := range nets {
		// A network whose stack removal is still finishing may be gone by now (a 500 saying
		// "not found" on 20.10).
		if err := docker.NetworkRemove(ctx, n.ID); err != nil && !errdefs.IsNotFound(err) && !strings.Contains(err.Error(), "not found") {
			Expect(err).NotTo(HaveOccurred())
		}
	}
	vols, _ := docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	for _, v := range vols.Volumes {
		Expect(docker.VolumeRemove(ctx, v.Name, true)).To(Succeed())
	}
	Expect(docker.Close()).To(Succeed())
}, NodeTimeout(3*time.Minute))

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
