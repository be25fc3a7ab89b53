package swarm

import (
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("summarise", func() {
	updated := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	two := uint64(2)
	service := func(stack, name string) swarm.Service {
		return swarm.Service{ID: stack + name, Spec: swarm.ServiceSpec{
			Annotations: swarm.Annotations{Name: stack + "_" + name, Labels: map[string]string{
				v1.LabelStackNamespace: stack, v1.VersionLabel(stack): "1.0.0+" + name,
			}},
			Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &two}},
		}, Meta: swarm.Meta{UpdatedAt: updated}}
	}
	task := func(svc swarm.Service, desired, state swarm.TaskState, err string, created time.Time) swarm.Task {
		return swarm.Task{ServiceID: svc.ID, DesiredState: desired, Meta: swarm.Meta{CreatedAt: created},
			Status: swarm.TaskStatus{State: state, Err: err, Timestamp: created}}
	}

	It("counts running, starting and failed tasks and reads abra's labels from the app service", func() {
		app, db := service("s", "app"), service("s", "db")
		before, after := updated.Add(-time.Minute), updated.Add(time.Minute)
		states := summarise([]swarm.Service{db, app}, []swarm.Task{
			task(app, swarm.TaskStateRunning, swarm.TaskStateRunning, "", after),
			task(app, swarm.TaskStateRunning, swarm.TaskStateStarting, "", after),
			task(app, swarm.TaskStateShutdown, swarm.TaskStateFailed, "task: non-zero exit (1)", after),
			task(app, swarm.TaskStateShutdown, swarm.TaskStateFailed, "old failure", before),
			task(db, swarm.TaskStateRunning, swarm.TaskStateRunning, "", after),
			task(db, swarm.TaskStateRunning, swarm.TaskStateRunning, "", after),
		})
		Expect(states).To(HaveLen(1))
		st := states["s"]
		Expect(st.Version).To(Equal("1.0.0+app"))
		Expect(st.Services[0].Name).To(Equal("s_app"))
		Expect(st.Services[0]).To(MatchFields(IgnoreExtras, Fields{
			"Desired": Equal(2), "Running": Equal(1), "Starting": Equal(1), "Failures": Equal(1),
			"Errors": Equal([]string{"task: non-zero exit (1)", "old failure"}),
		}))
		Expect(st.Converged()).To(BeFalse())
		Expect(st.Services[1].converged()).To(BeTrue())
	})
})

var _ = Describe("serviceState", func() {
	Context("when an update was accepted but the old task still runs", func() {
		It("does not count the old task as running", func() {
			one := uint64(1)
			svc := swarm.Service{ID: "x", Spec: swarm.ServiceSpec{
				Annotations:  swarm.Annotations{Name: "s_app"},
				TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:2"}},
				Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}},
			}, UpdateStatus: &swarm.UpdateStatus{State: swarm.UpdateStateCompleted}}
			old := swarm.Task{ServiceID: "x", DesiredState: swarm.TaskStateRunning,
				Spec:   swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "app:1"}},
				Status: swarm.TaskStatus{State: swarm.TaskStateRunning}}
			st := serviceState(svc, []swarm.Task{old})
			Expect(st.Running).To(Equal(0))
			Expect(st.converged()).To(BeFalse())
		})
	})
})

var _ = Describe("cannotConverge", func() {
	DescribeTable("fails early only when a service cannot succeed",
		func(svc ServiceState, fails bool) {
			err := cannotConverge(StackState{Name: "s", Services: []ServiceState{svc}})
			if fails {
				Expect(err).To(MatchError(ContainSubstring(svc.Name)))
			} else {
				Expect(err).NotTo(HaveOccurred())
			}
		},
		Entry("when tasks are starting", ServiceState{Name: "s_app", Desired: 1, Starting: 1}, false),
		Entry("when one task failed once", ServiceState{Name: "s_app", Desired: 1, Failures: 1, Errors: []string{"task: non-zero exit (1)"}}, false),
		Entry("when tasks failed repeatedly", ServiceState{Name: "s_app", Desired: 1, Failures: 3, Errors: []string{"task: non-zero exit (1)"}}, true),
		Entry("when the image does not exist", ServiceState{Name: "s_app", Desired: 1, Failures: 1, Errors: []string{"No such image: x:1"}}, true),
		Entry("when the update paused", ServiceState{Name: "s_app", Desired: 1, Running: 1, UpdateState: "paused"}, true),
		Entry("when the update rolled back", ServiceState{Name: "s_app", Desired: 1, Running: 1, UpdateState: "rollback_completed"}, true),
		Entry("when the update is in progress", ServiceState{Name: "s_app", Desired: 1, Running: 1, UpdateState: "updating"}, false),
	)
})

var _ = Describe("tasks their node could not attach to their network", func() {
	const joinFailed = `network sandbox join failed: subnet sandbox join failed for "10.1.140.0/24": error creating vxlan interface: file exists`

	It("are the engine's failure, naming the service and the Engine's error", func() {
		err := cannotConverge(StackState{Name: "s", Services: []ServiceState{{Name: "s_app", Desired: 1, Failures: 3, Errors: []string{joinFailed}}}})
		Expect(err).To(MatchError(ContainSubstring("s_app")))
		Expect(err).To(MatchError(ContainSubstring("error creating vxlan interface")))
		Expect(IsEngineFailure(fmt.Errorf("base 1.1.0: %w", err))).To(BeTrue())
	})

	It("are the recipe's failure when another kind of error is among them", func() {
		err := cannotConverge(StackState{Name: "s", Services: []ServiceState{{Name: "s_app", Desired: 1, Failures: 3, Errors: []string{"task: non-zero exit (1)", joinFailed}}}})
		Expect(err).To(MatchError(ContainSubstring("s_app")))
		Expect(IsEngineFailure(err)).To(BeFalse())
	})

	It("wait for more failures like any other task error", func() {
		Expect(cannotConverge(StackState{Name: "s", Services: []ServiceState{{Name: "s_app", Desired: 1, Failures: 1, Errors: []string{joinFailed}}}})).To(Succeed())
	})
})
