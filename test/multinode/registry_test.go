//go:build multinode

package multinode

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// rigRegistry is the address of the rig's registry (make-swarm.sh with MN_REGISTRY=1), read
// from the rig's env file.
func rigRegistry() string {
	state := os.Getenv("MN_STATE")
	if state == "" {
		state = "/tmp/multinode/state"
	}
	b, err := os.ReadFile(filepath.Join(state, "env"))
	Expect(err).NotTo(HaveOccurred())
	for _, l := range strings.Split(string(b), "\n") {
		if addr, ok := strings.CutPrefix(l, "MN_REGISTRY="); ok && addr != "" {
			return addr
		}
	}
	Fail("the rig runs no registry: build it with MN_REGISTRY=1")
	return ""
}

// onNode runs the docker CLI against node's engine.
func onNode(ctx context.Context, node string, args ...string) {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"-H", endpoint(node)}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker %v: %s", args, out)
}

// pushVariant builds on mn1 an image FROM the sample's 1.1 that differs in a label, tags it
// ref and pushes it to the rig's registry: new bytes under the tag, on no other node.
func pushVariant(ctx context.Context, ref, label string) {
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+fixtures.SampleImage("1.1")+"\nLABEL ccci.test.variant="+label+"\n"), 0o644)).To(Succeed())
	onNode(ctx, mn1, "build", "-q", "-t", ref, dir)
	onNode(ctx, mn1, "push", "-q", ref)
}

// publish moves the recipe's tag to a commit whose compose.yml is edit's result, as a
// maintainer force-pushing a release.
func (w *world) publish(ctx context.Context, tag string, edit func(string) string) {
	work := filepath.Join(w.dir, "maintainer-"+tag)
	git := func(dir string, args ...string) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=m", "-c", "user.email=m@example.org", "-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "git %v: %s", args, out)
	}
	git(w.dir, "clone", "-q", "--branch", tag, filepath.Join(w.dir, "recipe"), work)
	file := filepath.Join(work, "compose.yml")
	b, err := os.ReadFile(file)
	Expect(err).NotTo(HaveOccurred())
	edited := edit(string(b))
	Expect(edited).NotTo(Equal(string(b)))
	Expect(os.WriteFile(file, []byte(edited), 0o644)).To(Succeed())
	git(work, "commit", "-qam", "publish "+tag)
	git(work, "tag", "-f", "-a", "-m", "release", tag)
	git(work, "push", "-q", "--force", "origin", "refs/tags/"+tag)
}

// runs is the RecipeTest's run history, newest first, from the state directory.
func (w *world) runs() []v1.Run {
	st, err := store.Open(filepath.Join(w.dir, "state"))
	Expect(err).NotTo(HaveOccurred())
	runs, err := controllers.LoadRuns(st, "mn")
	Expect(err).NotTo(HaveOccurred())
	return runs
}

// nodeDigests reads, for each node that runs a task of service, the image reference the task
// runs (from the manager) and whether that node's engine holds the image under digest (its own
// Docker client): node → "ref" or "ref (not on the node)".
func nodeDigests(ctx context.Context, service, name, digest string) map[string]string {
	tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, t := range tasks {
		if t.Status.State != swarm.TaskStateRunning {
			continue
		}
		n, _, err := manager.NodeInspectWithRaw(ctx, t.NodeID)
		Expect(err).NotTo(HaveOccurred())
		host := n.Description.Hostname
		out[host] = t.Spec.ContainerSpec.Image
		if !nodeRunsDigest(ctx, host, t.Status.ContainerStatus.ContainerID, name+"@"+digest) {
			out[host] += " (not what the node's container runs)"
		}
	}
	return out
}

// nodeRunsDigest reports whether the container on node runs the image that node's engine
// knows as nameAtDigest.
func nodeRunsDigest(ctx context.Context, node, containerID, nameAtDigest string) bool {
	cl, err := client.NewClientWithOpts(client.WithHost(endpoint(node)), client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())
	defer cl.Close()
	ctr, err := cl.ContainerInspect(ctx, containerID)
	if err != nil {
		return false
	}
	img, err := cl.ImageInspect(ctx, nameAtDigest)
	return err == nil && img.ID == ctr.Image
}

// hasImage reports whether node's engine holds ref, through its Docker client.
func hasImage(ctx context.Context, node, ref string) bool {
	cl, err := client.NewClientWithOpts(client.WithHost(endpoint(node)), client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())
	defer cl.Close()
	_, err = cl.ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return false
	}
	Expect(err).NotTo(HaveOccurred())
	return true
}

// runContainers counts the containers of the suite's test runs on node.
func runContainers(ctx context.Context, node string) int {
	cl, err := client.NewClientWithOpts(client.WithHost(endpoint(node)), client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())
	defer cl.Close()
	ctrs, err := cl.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", v1.LabelRun))})
	Expect(err).NotTo(HaveOccurred())
	return len(ctrs)
}

var _ = Describe("a recipe's image in the rig's registry", func() {
	It("aborts while the registry is down; then runs the tested digest on every node, and tests a moved tag again before promoting it", func(ctx SpecContext) {
		reg := rigRegistry()
		name := reg + "/mnreg-" + suiteID
		ref := name + ":1.1"
		By("pushing the sample's 1.1 image to the registry from mn1")
		onNode(ctx, mn1, "tag", fixtures.SampleImage("1.1"), ref)
		onNode(ctx, mn1, "push", "-q", ref)

		w := newWorld("    - name: install")
		// One task on each node that may run it: the test stack's only on mn3, the warm app's
		// on mn2 and mn3 (mn1 is drained).
		w.publish(ctx, "1.1.0+1.1", func(c string) string {
			c = strings.Replace(c, "image: "+fixtures.SampleImage("1.1"), "image: "+ref, 1)
			return strings.Replace(c, "    deploy:\n", "    deploy:\n      mode: global\n", 1)
		})
		service := w.stack + "_app"

		By("stopping the registry: the run is Aborted naming it, not Failed")
		rigCmd(ctx, "registry-ctl.sh", "stop")
		DeferCleanup(func(ctx SpecContext) { rigCmd(ctx, "registry-ctl.sh", "start") }, NodeTimeout(time.Minute))
		_, errOut, code := w.ccci(ctx, "trigger", "recipetest/mn", "--ref", "1.1.0+1.1")
		Expect(code).NotTo(Equal(0))
		Expect(strings.ToLower(errOut)).To(ContainSubstring("aborted"))
		runs := w.runs()
		Expect(runs).To(HaveLen(1))
		Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
		Expect(runs[0].Message).To(And(ContainSubstring("registry "+reg), ContainSubstring(ref)))
		Expect(runs[0].Tiers).To(BeEmpty(), "nothing was deployed")

		By("starting it again: the same ref passes, the sweep promotes it, and every node runs the tested digest")
		rigCmd(ctx, "registry-ctl.sh", "start")
		_, _, code = w.ccci(ctx, "trigger", "recipetest/mn", "--ref", "1.1.0+1.1")
		Expect(code).To(Equal(0))
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*PROMOTED`))
		Expect(w.status(ctx).FailedVersions).To(BeEmpty())
		runs = w.runs()
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		tested := runs[0].CandidateDigests()[ref]
		Expect(tested).To(HavePrefix("sha256:"))
		Eventually(nodeDigests).WithContext(ctx).WithArguments(service, name, tested).WithTimeout(time.Minute).WithPolling(time.Second).
			Should(Equal(map[string]string{mn2: ref + "@" + tested, mn3: ref + "@" + tested}))

		By("re-pushing the tag with other bytes: a test run of the new digest passes on mn3, and its image goes from mn3 afterwards")
		pushVariant(ctx, ref, suiteID)
		_, _, code = w.ccci(ctx, "trigger", "recipetest/mn", "--ref", "1.1.0+1.1")
		Expect(code).To(Equal(0))
		runs = w.runs()
		moved := runs[0].CandidateDigests()[ref]
		Expect(moved).To(HavePrefix("sha256:"))
		Expect(moved).NotTo(Equal(tested))
		Expect(runContainers(ctx, testNode)).To(BeZero())
		Expect(hasImage(ctx, testNode, name+"@"+moved)).To(BeFalse(), "the run's image is removed from the node that pulled it")
		Expect(hasImage(ctx, testNode, name+"@"+tested)).To(BeTrue(), "the warm app's image stays")
		// Eventually: under load a healthcheck that timed out restarts a task, on the same image.
		Eventually(nodeDigests).WithContext(ctx).WithArguments(service, name, tested).WithTimeout(time.Minute).WithPolling(time.Second).
			Should(Equal(map[string]string{mn2: ref + "@" + tested, mn3: ref + "@" + tested}), "a test run promotes nothing")

		By("the next sweep: the moved tag is not promoted on the old verdict, and every node ends on the new digest")
		before := len(runs)
		out, errOut, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*PROMOTED`))
		runs = w.runs()
		Expect(len(runs)).To(BeNumerically(">=", before))
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		Expect(runs[0].CandidateDigests()[ref]).To(Equal(moved))
		Expect(w.status(ctx).DeployedImages).To(HaveKeyWithValue(ref, moved))
		Eventually(nodeDigests).WithContext(ctx).WithArguments(service, name, moved).WithTimeout(time.Minute).WithPolling(time.Second).
			Should(Equal(map[string]string{mn2: ref + "@" + moved, mn3: ref + "@" + moved}))
	}, NodeTimeout(12*time.Minute))
})
