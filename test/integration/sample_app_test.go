//go:build integration

package integration

import (
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

// taskHealth returns the state of the service's running task and its container's health
// ("" while there is no task or container yet).
func taskHealth(ctx SpecContext, serviceID string) (state swarm.TaskState, health string, err error) {
	tasks, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", serviceID), filters.Arg("desired-state", "running"))})
	if err != nil || len(tasks) == 0 {
		return "", "", err
	}
	task := tasks[0]
	if task.Status.ContainerStatus == nil || task.Status.ContainerStatus.ContainerID == "" {
		return task.Status.State, "", nil
	}
	ctr, err := docker.ContainerInspect(ctx, task.Status.ContainerStatus.ContainerID)
	if err != nil || ctr.State == nil || ctr.State.Health == nil {
		return task.Status.State, "", err
	}
	return task.Status.State, ctr.State.Health.Status, nil
}

// createSampleService starts one replica of a sample image as a Swarm service labelled for
// this suite and removes it when the spec ends.
func createSampleService(ctx SpecContext, version string, env ...string) string {
	name := "ccci-it-sample-" + randomID()
	replicas := uint64(1)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name, Labels: suiteLabels()},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: fixtures.SampleImage(version), Env: env, Labels: suiteLabels()},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		// No IPVS on the test hosts: DNS round-robin, no virtual IP.
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	resp, err := docker.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		Expect(docker.ServiceRemove(ctx, resp.ID)).To(Succeed())
	}, NodeTimeout(30*time.Second))
	return resp.ID
}

var _ = Describe("the sample app image", func() {
	Context("when deployed as a Swarm service", func() {
		It("becomes running and healthy", func(ctx SpecContext) {
			id := createSampleService(ctx, "1.0")

			By("waiting for a running task whose container is healthy")
			Eventually(func(g Gomega) {
				state, health, err := taskHealth(ctx, id)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(state).To(Equal(swarm.TaskStateRunning))
				g.Expect(health).To(Equal(container.Healthy))
			}).WithContext(ctx).WithTimeout(45 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		}, NodeTimeout(time.Minute))
	})

	Context("when SAMPLE_UNHEALTHY=true", func() {
		It("is replaced by Swarm without ever becoming healthy", func(ctx SpecContext) {
			id := createSampleService(ctx, "1.0", "SAMPLE_UNHEALTHY=true")

			// Swarm kills an unhealthy container at once and starts a new task, so the
			// failure shows as task churn rather than as a lasting "unhealthy" status.
			By("waiting for Swarm to shut a task down, checking health on every poll")
			var healths []string
			Eventually(func(g Gomega) []swarm.Task {
				_, health, err := taskHealth(ctx, id)
				g.Expect(err).NotTo(HaveOccurred())
				healths = append(healths, health)
				tasks, err := docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
					filters.Arg("service", id), filters.Arg("desired-state", "shutdown"))})
				g.Expect(err).NotTo(HaveOccurred())
				return tasks
			}).WithContext(ctx).WithTimeout(45 * time.Second).WithPolling(500 * time.Millisecond).ShouldNot(BeEmpty())
			Expect(healths).NotTo(ContainElement(container.Healthy))
		}, NodeTimeout(time.Minute))
	})
})
