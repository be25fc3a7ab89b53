//go:build faults

package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Faults Suite")
}

// The rig's names: one node, f261, whose Engine answers at unix:///run/f261.sock.
const (
	rigPrefix = "f26"
	rigSubnet = "10.126.0"
	engine    = "unix:///run/f261.sock"
)

// The sample recipe's tags.
const (
	tag10 = "1.0.0+1.0"
	tag11 = "1.1.0+1.1"
)

var (
	rig     string // ../shared/multinode
	rigEnv  []string
	docker  *client.Client // the rig's engine
	binary  string
	suiteID string
)

var _ = BeforeSuite(func(ctx SpecContext) {
	rig = os.Getenv("CCCI_MULTINODE")
	if rig == "" {
		rig = filepath.Join(fixtures.RepoRoot(), "..", "shared", "multinode")
	}
	_, err := os.Stat(filepath.Join(rig, "make-swarm.sh"))
	Expect(err).NotTo(HaveOccurred(), "the rig is missing at %s (set CCCI_MULTINODE)", rig)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suiteID = hex.EncodeToString(b)

	By("building the images, the controller and a one-node swarm of the suite's own")
	Expect(fixtures.BuildSampleImages(ctx)).To(Succeed())
	binary, err = fixtures.BuildController(ctx, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	var images []string
	for _, v := range fixtures.SampleImageVersions {
		images = append(images, fixtures.SampleImage(v))
	}
	rigEnv = append(os.Environ(), "MN_PREFIX="+rigPrefix, "MN_SUBNET="+rigSubnet, "MN_STATE="+filepath.Join(os.TempDir(), "ccci-faults-rig"),
		"MN_APP_DIR=/nonexistent", "MN_IMAGES="+strings.Join(images, " "))
	rigCmd(ctx, "teardown.sh")
	DeferCleanup(func(ctx SpecContext) { rigCmd(ctx, "teardown.sh") }, NodeTimeout(2*time.Minute))
	rigCmd(ctx, "make-swarm.sh", "1")
	docker, err = client.NewClientWithOpts(client.WithHost(engine), client.WithAPIVersionNegotiation())
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(8*time.Minute))

// rigCmd runs one of the rig's scripts.
func rigCmd(ctx context.Context, script string, args ...string) {
	cmd := exec.CommandContext(ctx, filepath.Join(rig, script), args...)
	cmd.Env = rigEnv
	out, err := cmd.CombinedOutput()
	GinkgoWriter.Printf("$ %s %v\n%s", script, args, out)
	Expect(err).NotTo(HaveOccurred(), "%s %v: %s", script, args, out)
}

// signalEngine sends sig to the rig's dockerd (and only to it: its containerd runs on).
func signalEngine(sig syscall.Signal) {
	data, err := os.ReadFile("/run/" + rigPrefix + "1.pid")
	Expect(err).NotTo(HaveOccurred())
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	Expect(err).NotTo(HaveOccurred())
	Expect(syscall.Kill(pid, sig)).To(Succeed())
}

// world is one spec's resources, state, sample recipe and warm stack, on the rig.
type world struct {
	dir, resources, state, recipe string
	name, stack                   string
}

func newWorld() *world {
	dir := GinkgoT().TempDir()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	w := &world{dir: dir, resources: filepath.Join(dir, "resources"), state: filepath.Join(dir, "state"), name: "f" + id, stack: "warm_f26_" + id}
	Expect(os.MkdirAll(w.resources, 0o755)).To(Succeed())
	// A spec that fails half-way must not fail the next one with its leftovers.
	DeferCleanup(removeLeftovers, NodeTimeout(3*time.Minute))
	var err error
	w.recipe, err = fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	Expect(err).NotTo(HaveOccurred())
	return w
}

// writeResources writes the RecipeTest (install tier only, to keep runs short) and the
// WarmCanonical at version.
func (w *world) writeResources(version string) {
	Expect(os.WriteFile(filepath.Join(w.resources, "f.yaml"), []byte(fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %[1]s
spec:
  recipe: sample
  source:
    git: %[2]s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
  tiers:
    - name: install
  timeout: 5m
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: %[1]s
spec:
  version: %[3]q
  stack: %[4]s
  timeout: 2m
`, w.name, w.recipe, version, w.stack)), 0o644)).To(Succeed())
}

// command is ccci-controller cmd on the world, against the rig's engine, with short Engine API
// deadlines.
func (w *world) command(ctx context.Context, cmd string, rest ...string) *exec.Cmd {
	args := []string{"--resources", w.resources, "--state", w.state, cmd}
	if cmd != "get" && cmd != "describe" {
		args = append(args, "--label", v1.LabelTestSuite+"="+suiteID, "--engine-timeout", "8s", "--engine-read-timeout", "4s")
	}
	c := exec.CommandContext(ctx, binary, append(args, rest...)...)
	c.Env = append(os.Environ(), "DOCKER_HOST="+engine)
	return c
}

// ccci runs a one-shot command and returns stdout, stderr and exit code.
func (w *world) ccci(ctx context.Context, cmd string, rest ...string) (string, string, int) {
	out, errOut, code, err := fixtures.RunCLI(w.command(ctx, cmd, rest...))
	Expect(err).NotTo(HaveOccurred())
	GinkgoWriter.Printf("$ ccci %s %s -> %d\n%s%s", cmd, strings.Join(rest, " "), code, out, errOut)
	return out, errOut, code
}

// daemon is a running ccci-controller run.
type daemon struct {
	cmd *exec.Cmd
	url string
}

// startDaemon starts the daemon on a free loopback port; it is killed when the spec ends.
func (w *world) startDaemon(ctx context.Context, extra ...string) *daemon {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	d := &daemon{url: "http://" + addr}
	d.cmd = w.command(context.WithoutCancel(ctx), "run", append([]string{"--listen", addr, "--sweep-interval", "1h"}, extra...)...)
	d.cmd.Stdout, d.cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(d.cmd.Start()).To(Succeed())
	DeferCleanup(d.kill)
	Eventually(d.get).WithArguments("/healthz").WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(HavePrefix("200 "))
	return d
}

// get returns "<status code> <body>" of path, or the error.
func (d *daemon) get(path string) string {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(d.url + path)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, body.String())
}

// kill ends the daemon with SIGKILL, if it still runs.
func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

// leftovers lists what the rig's engine holds of test runs: services, networks, secrets and
// volumes of stacks named ccci_*. The rig is the suite's own, so all of them are this suite's.
func leftovers(ctx context.Context) []string {
	out := []string{}
	ns := filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace))
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: ns})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		if strings.HasPrefix(s.Spec.Labels[v1.LabelStackNamespace], "ccci_") {
			out = append(out, "service "+s.Spec.Name)
		}
	}
	nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: ns})
	Expect(err).NotTo(HaveOccurred())
	for _, n := range nets {
		if strings.HasPrefix(n.Labels[v1.LabelStackNamespace], "ccci_") {
			out = append(out, "network "+n.Name)
		}
	}
	secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range secrets {
		if strings.HasPrefix(s.Spec.Name, "ccci_") {
			out = append(out, "secret "+s.Spec.Name)
		}
	}
	vols, err := docker.VolumeList(ctx, volume.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	for _, v := range vols.Volumes {
		if strings.HasPrefix(v.Labels[v1.LabelStackNamespace], "ccci_") {
			out = append(out, "volume "+v.Name)
		}
	}
	return out
}

// appService returns the warm stack's app service as the rig's engine has it.
func (w *world) appService(ctx context.Context) (swarm.Service, error) {
	s, _, err := docker.ServiceInspectWithRaw(ctx, w.stack+"_app", swarm.ServiceInspectOptions{})
	return s, err
}

// runServices is the services of leftovers: a test run's stack is up.
func runServices(ctx context.Context) []string {
	var out []string
	for _, o := range leftovers(ctx) {
		if strings.HasPrefix(o, "service ") {
			out = append(out, o)
		}
	}
	return out
}

// removeLeftovers removes every stack's objects from the rig (the suite's own: test runs' and
// the specs' warm apps), services first: their tasks hold the networks and volumes until they
// are gone.
func removeLeftovers(ctx SpecContext) {
	ns := filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace))
	ours := func(stack string) bool { return stack != "" }
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: ns})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		if ours(s.Spec.Labels[v1.LabelStackNamespace]) {
			_ = docker.ServiceRemove(ctx, s.ID)
		}
	}
	Eventually(func(g Gomega) {
		nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: ns})
		g.Expect(err).NotTo(HaveOccurred())
		for _, n := range nets {
			if ours(n.Labels[v1.LabelStackNamespace]) {
				g.Expect(docker.NetworkRemove(ctx, n.ID)).To(Succeed())
			}
		}
		secrets, err := docker.SecretList(ctx, swarm.SecretListOptions{}) // a run's secrets carry secret-of, not the namespace
		g.Expect(err).NotTo(HaveOccurred())
		for _, s := range secrets {
			if ours(s.Spec.Labels[v1.LabelStackNamespace]) || ours(s.Spec.Labels[v1.LabelSecretOf]) || strings.HasPrefix(s.Spec.Name, "ccci_") {
				g.Expect(docker.SecretRemove(ctx, s.ID)).To(Succeed())
			}
		}
		vols, err := docker.VolumeList(ctx, volume.ListOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		for _, v := range vols.Volumes {
			if ours(v.Labels[v1.LabelStackNamespace]) {
				g.Expect(docker.VolumeRemove(ctx, v.Name, true)).To(Succeed())
			}
		}
	}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
}
