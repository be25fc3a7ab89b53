package swarm

import (
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("which images a run brought", func() {
	const (
		reg       = "127.0.0.1:5000"
		oldDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		newDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	repos := map[string]bool{reg + "/app": true}
	service := func(img string) swarm.Service {
		return swarm.Service{Spec: swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: img}}}}
	}
	// The warm app runs the old digest of app:1; someone else's stack runs app:2 by tag.
	named := serviceImageRefs([]swarm.Service{service(reg + "/app:1@" + oldDigest), service(reg + "/app:2"), {}})

	It("names a pinned service's image by digest only, an unpinned one by tag", func() {
		Expect(named).To(Equal(map[string]bool{reg + "/app@" + oldDigest: true, reg + "/app:2": true}))
	})

	DescribeTable("broughtBy",
		func(tags, digests []string, want bool) {
			Expect(broughtBy(image.Summary{RepoTags: tags, RepoDigests: digests}, repos, named)).To(Equal(want))
		},
		Entry("the run's new digest under the warm app's tag", []string{reg + "/app:1"}, []string{reg + "/app@" + newDigest}, true),
		Entry("pulled by digest only", nil, []string{reg + "/app@" + newDigest}, true),
		Entry("the warm app's digest", nil, []string{reg + "/app@" + oldDigest}, false),
		Entry("a tag a service runs by", []string{reg + "/app:2"}, nil, false),
		Entry("also tagged outside the run's repositories", []string{reg + "/app:1", "mine:latest"}, nil, false),
		Entry("another repository", []string{"nginx:1.27"}, nil, false),
		Entry("dangling", []string{"<none>:<none>"}, []string{"<none>@<none>"}, false),
	)

	DescribeTable("freedBytes",
		func(size, shared int64, layers, deleted int, want int64) {
			Expect(freedBytes(image.Summary{Size: size, SharedSize: shared}, layers, deleted)).To(Equal(want))
		},
		Entry("the engine reports the shared part", int64(100), int64(30), 3, 1, int64(70)),
		Entry("an older engine, every layer gone", int64(100), int64(-1), 3, 3, int64(100)),
		Entry("an older engine, layers kept by other images", int64(100), int64(-1), 3, 1, int64(0)),
	)
})
