package swarm

import (
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// cliSpec is a service spec as docker/cli's converter returns it for stack "st".
func cliSpec(name, image string) swarm.ServiceSpec {
	return swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "st_" + name, Labels: map[string]string{
			v1.LabelStackNamespace: "st", v1.LabelStackImage: image,
		}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Labels: map[string]string{v1.LabelStackNamespace: "st"}},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: "st_default", Aliases: []string{name}}},
			Placement:     &swarm.Placement{},
		},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{}},
		UpdateConfig: &swarm.UpdateConfig{Parallelism: 1},
	}
}

// stored returns spec as a 20.10 daemon stores it after `docker stack deploy`.
func stored(spec swarm.ServiceSpec, netID string) swarm.ServiceSpec {
	one := uint64(1)
	cs := *spec.TaskTemplate.ContainerSpec
	cs.Isolation = container.IsolationDefault
	spec.TaskTemplate.ContainerSpec = &cs
	spec.TaskTemplate.Runtime = swarm.RuntimeContainer
	spec.TaskTemplate.Networks = []swarm.NetworkAttachmentConfig{{Target: netID, Aliases: spec.TaskTemplate.Networks[0].Aliases}}
	spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}}
	u := *spec.UpdateConfig
	u.FailureAction, u.Order = swarm.UpdateFailureActionPause, swarm.UpdateOrderStopFirst
	spec.UpdateConfig = &u
	return spec
}

func withVersion(spec swarm.ServiceSpec, version string) swarm.ServiceSpec {
	spec.Labels = withLabels(spec.Labels, map[string]string{v1.VersionLabel("st"): version})
	return spec
}

var _ = Describe("planServices", func() {
	opts := DeployOptions{Version: "1.0.0+1", Role: v1.RoleWarm}
	netNames := map[string]string{"netid": "st_default"}
	desired := func(specs ...swarm.ServiceSpec) map[string]desiredService {
		out := map[string]desiredService{}
		for _, s := range specs {
			out[s.Name] = desiredService{cli: s, want: withVersion(s, opts.Version)}
		}
		return out
	}
	ours := func(spec swarm.ServiceSpec) swarm.Service {
		want := withVersion(spec, opts.Version)
		st := stored(want, "netid")
		st.Labels = withLabels(withLabels(st.Labels, bookkeepingLabels(opts)), map[string]string{v1.LabelSpecHash: specHash(want)})
		return swarm.Service{ID: "id-" + spec.Name, Spec: st, Meta: swarm.Meta{Version: swarm.Version{Index: 7}, UpdatedAt: time.Now()}}
	}
	byHand := func(spec swarm.ServiceSpec) swarm.Service {
		return swarm.Service{ID: "id-" + spec.Name, Spec: stored(spec, "netid")}
	}
	actions := func(steps []serviceStep) map[string]serviceAction {
		out := map[string]serviceAction{}
		for _, s := range steps {
			out[s.name] = s.action
		}
		return out
	}

	DescribeTable("decides per service",
		func(want map[string]desiredService, existing []swarm.Service, expected map[string]serviceAction) {
			Expect(actions(planServices("st", want, existing, netNames, opts))).To(Equal(expected))
		},
		Entry("when nothing exists: create",
			desired(cliSpec("app", "img:1")), nil,
			map[string]serviceAction{"st_app": actionCreate}),
		Entry("when our labels match: keep",
			desired(cliSpec("app", "img:1")), []swarm.Service{ours(cliSpec("app", "img:1"))},
			map[string]serviceAction{"st_app": actionKeep}),
		Entry("when the image changed: update",
			desired(cliSpec("app", "img:2")), []swarm.Service{ours(cliSpec("app", "img:1"))},
			map[string]serviceAction{"st_app": actionUpdate}),
		Entry("when the compose file dropped a service: remove it",
			desired(cliSpec("app", "img:1")), []swarm.Service{ours(cliSpec("app", "img:1")), ours(cliSpec("worker", "img:1"))},
			map[string]serviceAction{"st_app": actionKeep, "st_worker": actionRemove}),
		Entry("when docker stack deploy put the same spec there without any version label: update, the version is unknown",
			desired(cliSpec("app", "img:1"), cliSpec("worker", "img:1")),
			[]swarm.Service{byHand(cliSpec("app", "img:1")), byHand(cliSpec("worker", "img:1"))},
			map[string]serviceAction{"st_app": actionUpdate, "st_worker": actionUpdate}),
	)

	It("adopts a hand deploy whose compose file carries the version label itself", func() {
		app := withVersion(cliSpec("app", "img:1"), "1.0.0+1")
		worker := cliSpec("worker", "img:1")
		want := map[string]desiredService{
			app.Name:    {cli: app, want: app},
			worker.Name: {cli: worker, want: withVersion(worker, "1.0.0+1")},
		}
		steps := planServices("st", want, []swarm.Service{byHand(app), byHand(worker)}, netNames, opts)
		Expect(actions(steps)).To(Equal(map[string]serviceAction{"st_app": actionAdopt, "st_worker": actionAdopt}))
	})

	It("does not adopt a hand deploy of another version", func() {
		app := withVersion(cliSpec("app", "img:1"), "0.9.0+1")
		want := map[string]desiredService{app.Name: {cli: withVersion(cliSpec("app", "img:1"), "1.0.0+1"), want: withVersion(cliSpec("app", "img:1"), "1.0.0+1")}}
		steps := planServices("st", want, []swarm.Service{byHand(app)}, netNames, opts)
		Expect(actions(steps)).To(Equal(map[string]serviceAction{"st_app": actionUpdate}))
	})

	It("updates with our labels, the current ForceUpdate and an image digest pinned for the same compose image", func() {
		cur := ours(cliSpec("app", "img:1"))
		cur.Spec.TaskTemplate.ForceUpdate = 3
		cur.Spec.TaskTemplate.ContainerSpec.Image = "img:1@sha256:" + "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
		changed := cliSpec("app", "img:1")
		changed.TaskTemplate.ContainerSpec.Env = []string{"A=b"}
		steps := planServices("st", desired(changed), []swarm.Service{cur}, netNames, opts)
		Expect(steps).To(HaveLen(1))
		Expect(steps[0].action).To(Equal(actionUpdate))
		Expect(steps[0].spec.TaskTemplate.ForceUpdate).To(Equal(uint64(3)))
		Expect(steps[0].spec.TaskTemplate.ContainerSpec.Image).To(HavePrefix("img:1@sha256:"))
		Expect(steps[0].spec.Labels).To(HaveKeyWithValue(v1.LabelRole, v1.RoleWarm))
		Expect(steps[0].spec.Labels).To(HaveKeyWithValue(v1.VersionLabel("st"), "1.0.0+1"))
		Expect(steps[0].spec.Labels).To(HaveKeyWithValue(v1.LabelSpecHash, specHash(withVersion(changed, "1.0.0+1"))))
	})
})

var _ = Describe("specHash", func() {
	It("is stable for equal specs and changes with the spec", func() {
		a, b := cliSpec("app", "img:1"), cliSpec("app", "img:1")
		Expect(specHash(a)).To(Equal(specHash(b)))
		Expect(specHash(a)).NotTo(Equal(specHash(cliSpec("app", "img:2"))))
		Expect(specHash(a)).NotTo(Equal(specHash(withVersion(a, "1.0.0+1"))))
	})
})

var _ = Describe("specsEqual", func() {
	DescribeTable("compares a stored spec with a converted one",
		func(change func(*swarm.ServiceSpec), equal bool) {
			want := cliSpec("app", "img")
			have := stored(want, "netid")
			change(&have)
			Expect(specsEqual(have, want, map[string]bool{v1.LabelManagedBy: true}, map[string]string{"netid": "st_default"})).To(Equal(equal))
		},
		Entry("with only daemon defaults filled in", func(*swarm.ServiceSpec) {}, true),
		Entry("with the image tagged :latest by the client", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Image = "img:latest"
		}, true),
		Entry("with a digest pinned by registry resolution", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Image = "img:latest@sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
		}, true),
		Entry("with an ignored label", func(s *swarm.ServiceSpec) {
			s.Labels = withLabels(s.Labels, map[string]string{v1.LabelManagedBy: "x"})
		}, true),
		Entry("with another label", func(s *swarm.ServiceSpec) {
			s.Labels = withLabels(s.Labels, map[string]string{"x": "y"})
		}, false),
		Entry("with another image", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.ContainerSpec.Image = "img:2"
		}, false),
		Entry("with another replica count", func(s *swarm.ServiceSpec) {
			two := uint64(2)
			s.Mode.Replicated.Replicas = &two
		}, false),
		Entry("with another network", func(s *swarm.ServiceSpec) {
			s.TaskTemplate.Networks[0].Target = "othernet"
		}, false),
	)
})
