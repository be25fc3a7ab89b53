//go:build multinode

package multinode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

func TestMultinode(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Multi-node Suite")
}

var (
	rig     string // shared/multinode
	manager *client.Client
	binary  string
	suiteID string
	// prefix names the rig's nodes as its scripts do (MN_PREFIX, default mn): a helper with a
	// rig of its own beside the default one sets MN_PREFIX, MN_SUBNET and MN_STATE.
	prefix   = envOr("MN_PREFIX", "mn")
	mn1      = prefix + "1" // the manager, drained
	mn2      = prefix + "2"
	mn3      = prefix + "3"
	testNode = mn3 // the node labelled for tests
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func endpoint(node string) string { return "unix:///run/" + node + ".sock" }

// rigCmd runs one of the rig's scripts.
func rigCmd(ctx context.Context, script string, args ...string) {
	cmd := exec.CommandContext(ctx, filepath.Join(rig, script), args...)
	// MN_REGISTRY: the rig's registry serves the registry spec; the other specs' local images
	// still run, a node's failed pull of them falling back to its local copy at once (the rig
	// has no route outside).
	cmd.Env = append(os.Environ(), "MN_HEARTBEAT=1s", "MN_REGISTRY=1", "MN_IMAGES="+strings.Join(sampleImages(), " "))
	out, err := cmd.CombinedOutput()
	GinkgoWriter.Printf("$ %s %v\n%s", script, args, out)
	Expect(err).NotTo(HaveOccurred(), "%s %v: %s", script, args, out)
}

func sampleImages() []string {
	var out []string
	for _, v := range fixtures.SampleImageVersions {
		out = append(out, fixtures.SampleImage(v))
	}
	return out
}

var _ = BeforeSuite(func(ctx SpecContext) {
	rig = os.Getenv("CCCI_MULTINODE")
	if rig == "" {
		rig = filepath.Join(fixtures.RepoRoot(), "..", "shared", "multinode")
	}
	_, err := os.Stat(filepath.Join(rig, "make-swarm.sh"))
	Expect(err).NotTo(HaveOccurred(), "the multi-node rig is missing at %s (set CCCI_MULTINODE)", rig)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suiteID = hex.EncodeToString(b)

	By("building the images, the controller and the 3-node rig")
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
	binary, err = fixtures.BuildController(ctx, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	rigCmd(ctx, "teardown.sh")
	DeferCleanup(func(ctx SpecContext) { rigCmd(ctx, "teardown.sh") }, NodeTimeout(2*time.Minute))
	rigCmd(ctx, "make-swarm.sh", "3")
	manager, err = client.NewClientWithOpts(client.WithHost(endpoint(mn1)), client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())

	By("labelling " + mn3 + " for tests and draining the manager, " + mn1)
	for _, n := range []struct{ node, arg string }{{testNode, "--label-add=ccci.test=true"}, {mn1, "--availability=drain"}} {
		cmd := exec.CommandContext(ctx, "docker", "-H", endpoint(mn1), "node", "update", n.arg, n.node)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	}
}, NodeTimeout(8*time.Minute))

// world is one spec's resources and state, against the rig's manager with every endpoint.
type world struct{ dir, stack string }

func newWorld(tiers string) *world {
	w := &world{dir: GinkgoT().TempDir(), stack: "warm_mn_" + suiteID}
	repo, err := fixtures.SampleRecipe(filepath.Join(w.dir, "recipe"))
	Expect(err).NotTo(HaveOccurred())
	Expect(os.MkdirAll(filepath.Join(w.dir, "resources"), 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(w.dir, "resources", "mn.yaml"), []byte(fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: mn
spec:
  recipe: mn
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
  tiers:
%s
  placement:
    constraints: ["node.labels.ccci.test==true"]
  timeout: 10m
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: mn
spec:
  version: "1.1.0+1.1"
  stack: %s
  timeout: 3m
`, repo, tiers, w.stack)), 0o644)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		cmd := exec.CommandContext(ctx, "docker", "-H", endpoint(mn1), "stack", "rm", w.stack)
		_, _ = cmd.CombinedOutput()
	}, NodeTimeout(2*time.Minute))
	return w
}

// ccci runs a command against the rig's manager, with every node's endpoint.
func (w *world) ccci(ctx context.Context, args ...string) (string, string, int) {
	full := []string{"--resources", filepath.Join(w.dir, "resources"), "--state", filepath.Join(w.dir, "state"), args[0]}
	if args[0] == "sweep" || args[0] == "trigger" {
		full = append(full, "--label", v1.LabelTestSuite+"="+suiteID)
		for _, n := range []string{mn1, mn2, mn3} {
			full = append(full, "--node-endpoint", n+"="+endpoint(n))
		}
	}
	cmd := exec.CommandContext(ctx, binary, append(full, args[1:]...)...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+endpoint(mn1))
	out, errOut, code, err := fixtures.RunCLI(cmd)
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("$ ccci %s -> %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	return out, errOut, code
}

// runningNode is the hostname of the node running the service's task of image, read from the
// manager; "" when none runs.
func runningNode(ctx context.Context, service, image string) string {
	tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", service), filters.Arg("desired-state", "running"))})
	if err != nil {
		return ""
	}
	for _, t := range tasks {
		if t.Status.State != swarm.TaskStateRunning || t.Spec.ContainerSpec == nil || !strings.HasPrefix(t.Spec.ContainerSpec.Image, image) {
			continue
		}
		n, _, err := manager.NodeInspectWithRaw(ctx, t.NodeID)
		if err == nil {
			return n.Description.Hostname
		}
	}
	return ""
}

// status reads the WarmCanonical's status with get -o json.
func (w *world) status(ctx context.Context) v1.WarmCanonicalStatus {
	out, errOut, code := w.ccci(ctx, "get", "wc", "mn", "-o", "json")
	Expect(code).To(Equal(0), errOut)
	var v struct {
		Status v1.WarmCanonicalStatus `json:"status"`
	}
	Expect(json.Unmarshal([]byte(out), &v)).To(Succeed())
	return v.Status
}

// placementWatch records, from the manager, the node of every task of the suite's test runs
// while it runs.
type placementWatch struct {
	mu    sync.Mutex
	nodes map[string]bool
	stop  context.CancelFunc
	done  chan struct{}
}

func watchTestTasks(ctx context.Context) *placementWatch {
	ctx, cancel := context.WithCancel(ctx)
	p := &placementWatch{nodes: map[string]bool{}, stop: cancel, done: make(chan struct{})}
	hostnames := map[string]string{}
	go func() {
		defer close(p.done)
		// Sampled every 200 ms: a task lives for seconds, so none is missed.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelRun))})
			if err == nil {
				for _, t := range tasks {
					if t.NodeID == "" {
						continue
					}
					if _, ok := hostnames[t.NodeID]; !ok {
						if n, _, err := manager.NodeInspectWithRaw(ctx, t.NodeID); err == nil {
							hostnames[t.NodeID] = n.Description.Hostname
						}
					}
					p.mu.Lock()
					p.nodes[hostnames[t.NodeID]] = true
					p.mu.Unlock()
				}
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *placementWatch) seen() []string {
	p.stop()
	<-p.done
	var out []string
	for n := range p.nodes {
		out = append(out, n)
	}
	return out
}

var _ = Describe("the controller on a 3-node swarm with the manager drained", Ordered, func() {
	It("tests through the worker's endpoint, backup and restore included, keeps tests on their node, and promotes", func(ctx SpecContext) {
		w := newWorld("    - name: install\n    - name: upgrade\n      from: previous\n    - name: backup\n    - name: restore")
		watch := watchTestTasks(ctx)
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		Expect(out).To(MatchRegexp(`(?m)^mn\s.*PROMOTED`))
		Expect(watch.seen()).To(ConsistOf(testNode), "every test task ran on the node labelled ccci.test")

		By("reading Swarm: the warm app runs 1.1.0+1.1 on a worker")
		svc, _, err := manager.ServiceInspectWithRaw(ctx, w.stack+"_app", swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.Labels[v1.VersionLabel(w.stack)]).To(Equal("1.1.0+1.1"))
		Expect(svc.Spec.TaskTemplate.Placement).To(SatisfyAny(BeNil(), HaveField("Constraints", BeEmpty())), "spec.placement is for test stacks only")
	}, NodeTimeout(10*time.Minute))

	It("stalls, naming the node, when the warm app's node is drained during a promotion, and neither fails the version nor rolls back", func(ctx SpecContext) {
		w := newWorld("    - name: install")
		file := filepath.Join(w.dir, "resources", "mn.yaml")
		edit := func(old, new string) {
			b, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(old))
			Expect(os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644)).To(Succeed())
		}
		By("promoting 1.0.0+1.0, whose task and volume land on a worker")
		edit(`version: "1.1.0+1.1"`, `version: "1.0.0+1.0"`)
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		service := w.stack + "_app"
		node := runningNode(ctx, service, "ccci-sample-app:1.0")
		Expect(node).To(BeElementOf(mn2, mn3))
		other := map[string]string{mn2: mn3, mn3: mn2}[node]
		nodeUpdate := func(ctx context.Context, availability, n string) {
			cmd := exec.CommandContext(ctx, "docker", "-H", endpoint(mn1), "node", "update", "--availability="+availability, n)
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
		}
		DeferCleanup(func(ctx SpecContext) {
			nodeUpdate(ctx, "active", node)
			nodeUpdate(ctx, "active", other)
		}, NodeTimeout(time.Minute))
		By("leaving " + node + " the only node that runs tasks, tests included, so the update stays beside its data")
		nodeUpdate(ctx, "drain", other)
		edit(`constraints: ["node.labels.ccci.test==true"]`, `constraints: ["node.hostname==`+node+`"]`)

		By("draining that node while 1.1.0+1.1 soaks")
		edit(`version: "1.0.0+1.0"`, `version: "1.1.0+1.1"`)
		edit("  timeout: 3m\n", "  timeout: 3m\n  soak: 45s\n")
		type result struct {
			out  string
			code int
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			out, errOut, code := w.ccci(ctx, "sweep")
			done <- result{out + errOut, code}
		}()
		Eventually(func() string { return runningNode(ctx, service, "ccci-sample-app:1.1") }).
			WithContext(ctx).WithTimeout(4 * time.Minute).WithPolling(250 * time.Millisecond).Should(Equal(node))
		nodeUpdate(ctx, "drain", node)
		var r result
		Eventually(done).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Receive(&r))
		Expect(r.code).To(Equal(1), r.out)
		Expect(r.out).To(MatchRegexp(`(?m)^mn\s.*STALLED`))
		Expect(r.out).To(ContainSubstring("node " + node + " (drained)"))

		By("reading Swarm: the service is still at 1.1.0+1.1 (no rollback) and runs nowhere, every node drained")
		svc, _, err := manager.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Spec.Labels[v1.VersionLabel(w.stack)]).To(Equal("1.1.0+1.1"))
		Expect(runningNode(ctx, service, "ccci-sample-app:")).To(BeEmpty())

		By("the status: Stalled for DataNodeMoved, no failed version, and a next pass writes nothing")
		st := w.status(ctx)
		Expect(st.FailedVersions).To(BeEmpty())
		stalled, ok := st.Conditions.Get(v1.ConditionStalled)
		Expect(ok).To(BeTrue())
		Expect(stalled.Reason).To(Equal(v1.ReasonDataNodeMoved))
		before := svc.Version.Index
		out, errOut, code = w.ccci(ctx, "sweep")
		Expect(code).To(Equal(1))
		Expect(out + errOut).To(ContainSubstring("node " + node + " (drained)"))
		svc, _, err = manager.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(svc.Version.Index).To(Equal(before), "nothing deployed over an app away from its data")
	}, NodeTimeout(12*time.Minute))

	It("aborts a run whose node crashed, and passes the same ref once the node is back", func(ctx SpecContext) {
		w := newWorld("    - name: install\n    - name: backup\n    - name: restore")
		type result struct {
			stderr string
			code   int
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			_, errOut, code := w.ccci(ctx, "trigger", "recipetest/mn", "--ref", "1.1.0+1.1")
			done <- result{errOut, code}
		}()
		By("crashing " + mn3 + " once the run's task is running there")
		Eventually(func() int {
			tasks, err := manager.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelRun), filters.Arg("desired-state", "running"))})
			if err != nil {
				return 0
			}
			running := 0
			for _, t := range tasks {
				if t.Status.State == swarm.TaskStateRunning {
					running++
				}
			}
			return running
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(200 * time.Millisecond).Should(BeNumerically(">", 0))
		rigCmd(ctx, "node-ctl.sh", "crash", "3")
		var r result
		Eventually(done).WithContext(ctx).WithTimeout(5 * time.Minute).Should(Receive(&r))
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("was aborted, not judged"))

		By("starting " + mn3 + " again: the same ref passes")
		rigCmd(ctx, "node-ctl.sh", "start", "3")
		Eventually(func() swarm.NodeState {
			nodes, err := manager.NodeList(ctx, swarm.NodeListOptions{})
			if err != nil {
				return ""
			}
			for _, n := range nodes {
				if n.Description.Hostname == testNode {
					return n.Status.State
				}
			}
			return ""
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal(swarm.NodeStateReady))
		out, errOut, code := w.ccci(ctx, "trigger", "recipetest/mn", "--ref", "1.1.0+1.1")
		Expect(code).To(Equal(0), out+errOut)
	}, NodeTimeout(12*time.Minute))
})
