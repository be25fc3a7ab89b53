//go:build integration

package swarm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

// Resolution and pinned deploys against real registries (Debian's docker-registry on loopback
// ports), judged by what the Engine stores and pulls.
var _ = Describe("Images", Ordered, func() {
	var (
		open, private *fixtures.Registry
		configDir     string
		pushed        string // open registry: swarmtest:1
	)
	const password = "pw-" + "s3cr3t-for-the-test"

	BeforeAll(func(ctx SpecContext) {
		var err error
		open, err = fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "", "")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(open.Stop)
		private, err = fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "ccci", password)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(private.Stop)
		configDir = GinkgoT().TempDir()
		pushed, err = open.Push(ctx, "", testImage+":1", "swarmtest-"+suiteID+":1")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { removeImageRefs(ctx, open.Addr) }, NodeTimeout(time.Minute))
		DeferCleanup(func(ctx SpecContext) { removeImageRefs(ctx, private.Addr) }, NodeTimeout(time.Minute))
	}, NodeTimeout(2*time.Minute))

	It("resolves a registry's tag to the digest the registry holds, once per reference", func(ctx SpecContext) {
		imgs := cli.NewImages()
		counter.reset()
		img, err := imgs.Resolve(ctx, pushed)
		Expect(err).NotTo(HaveOccurred())
		again, err := imgs.Resolve(ctx, pushed)
		Expect(err).NotTo(HaveOccurred())
		Expect(again).To(Equal(img))
		Expect(counter.paths).To(HaveLen(2), "one image list and one distribution look-up: %v", counter.paths)
		inspect, err := cli.Docker().ImageInspect(ctx, pushed)
		Expect(err).NotTo(HaveOccurred())
		Expect(inspect.RepoDigests).To(ContainElement(strings.TrimSuffix(pushed, ":1") + "@" + img.Digest))
		Expect(img.Digest).To(HavePrefix("sha256:"))
		Expect(img.Pinned()).To(Equal(pushed + "@" + img.Digest))
	}, NodeTimeout(time.Minute))

	It("takes an image built on the host as local, by its ID", func(ctx SpecContext) {
		img, err := cli.NewImages().Resolve(ctx, testImage+":2")
		Expect(err).NotTo(HaveOccurred())
		inspect, err := cli.Docker().ImageInspect(ctx, testImage+":2")
		Expect(err).NotTo(HaveOccurred())
		Expect(img).To(Equal(Image{Ref: testImage + ":2", ID: inspect.ID}))
		Expect(img.Pinned()).To(Equal(testImage + ":2"))
	}, NodeTimeout(time.Minute))

	It("says a missing tag is not found, and a dead registry is unreachable", func(ctx SpecContext) {
		_, err := cli.NewImages().Resolve(ctx, open.Addr+"/swarmtest-"+suiteID+":nope")
		Expect(IsImageNotFound(err)).To(BeTrue(), "%v", err)
		Expect(IsRegistryFailure(err)).To(BeFalse())

		dead, err := fixtures.StartRegistry(ctx, GinkgoT().TempDir(), "", "")
		Expect(err).NotTo(HaveOccurred())
		dead.Stop()
		_, err = cli.NewImages().Resolve(ctx, dead.Addr+"/x:1")
		Expect(IsRegistryFailure(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(And(ContainSubstring("registry "+dead.Addr+" unreachable"), ContainSubstring(dead.Addr+"/x:1"))))
	}, NodeTimeout(time.Minute))

	It("pulls a private image with the Docker config's credentials, which appear nowhere", func(ctx SpecContext) {
		ref, err := private.Push(ctx, configDir, testImage+":2", "priv-"+suiteID+":2")
		Expect(err).NotTo(HaveOccurred())

		By("failing without credentials, as an authentication failure")
		_, err = cli.NewImages().Resolve(ctx, ref)
		var re *RegistryError
		Expect(err).To(BeAssignableToTypeOf(re))
		Expect(err.(*RegistryError).Kind).To(Equal(RegistryAuthFailed), "%v", err)

		By("resolving and deploying with the config directory's credentials")
		c, err := NewClient()
		Expect(err).NotTo(HaveOccurred())
		Expect(c.SetDockerConfig(configDir)).To(Succeed())
		img, err := c.NewImages().Resolve(ctx, ref)
		Expect(err).NotTo(HaveOccurred())
		// The engine must pull it: no local reference to those bytes under the name.
		removeImageRefs(ctx, private.Addr)

		name := "swp_" + randomSuffix()
		st := imageStack(name, ref)
		DeferCleanup(func(ctx SpecContext) { Expect(cli.Remove(ctx, name, true)).To(Succeed()) }, NodeTimeout(3*time.Minute))
		opts := deployOptions("1.0.0+1")
		opts.Images = map[string]string{ref: img.Pinned()}
		_, err = c.Deploy(ctx, st, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.WaitConverged(ctx, name, 2*time.Minute)).To(Succeed())
		svc, raw, err := cli.Docker().ServiceInspectWithRaw(ctx, name+"_app", swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.TaskTemplate.ContainerSpec.Image).To(Equal(ref + "@" + img.Digest))
		Expect(string(raw)).NotTo(ContainSubstring(password))
		encoded, err := c.auth.encoded(private.Addr)
		Expect(err).NotTo(HaveOccurred())
		Expect(encoded).NotTo(BeEmpty())
		Expect(string(raw)).NotTo(ContainSubstring(encoded), "the stored spec does not give the credentials away")
	}, NodeTimeout(4*time.Minute))
})

// imageStack writes a one-service stack running image and loads it as name.
func imageStack(name, image string) *Stack {
	dir := GinkgoT().TempDir()
	compose := "version: \"3.8\"\nservices:\n  app:\n    image: " + image + "\n    healthcheck:\n      test: [\"CMD\", \"/app\", \"healthcheck\"]\n      interval: 1s\n"
	Expect(os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644)).To(Succeed())
	s, err := Load(LoadOptions{WorkingDir: dir, Env: map[string]string{}, StackName: name})
	Expect(err).NotTo(HaveOccurred())
	return s
}

// removeImageRefs removes every local tag and digest reference under registry addr (the
// images' bytes stay while other tags hold them).
func removeImageRefs(ctx context.Context, addr string) {
	list, err := cli.Docker().ImageList(ctx, image.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, img := range list {
		for _, ref := range append(append([]string(nil), img.RepoTags...), img.RepoDigests...) {
			if strings.HasPrefix(ref, addr+"/") {
				_ = exec.CommandContext(ctx, "docker", "rmi", ref).Run()
			}
		}
	}
}
