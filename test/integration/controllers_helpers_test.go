//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// The sample recipe's tags.
const (
	tag10 = "1.0.0+1.0"
	tag11 = "1.1.0+1.1"
	tag12 = "1.2.0+1.2" // never healthy
	tag20 = "2.0.0+2.0" // MAJOR
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// ccciBinary builds the controller once per suite run.
func ccciBinary() string {
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ccci-it-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath, binaryErr = fixtures.BuildController(context.Background(), dir)
	})
	Expect(binaryErr).NotTo(HaveOccurred())
	return binaryPath
}

// world is one spec's resources, state, sample recipe and warm stack.
type world struct {
	dir, resources, state, recipe string
	name, stack                   string
}

// newWorld makes a fresh world whose warm stack is removed, with volumes, when the spec ends.
func newWorld() *world {
	ccciBinary()
	id := randomID()
	dir := GinkgoT().TempDir()
	w := &world{dir: dir, resources: filepath.Join(dir, "resources"), state: filepath.Join(dir, "state"),
		name: "s" + id, stack: "warm_it_" + id}
	Expect(os.MkdirAll(w.resources, 0o755)).To(Succeed())
	var err error
	w.recipe, err = fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		c, err := ccciswarm.NewClient()
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Remove(ctx, w.stack, true)).To(Succeed())
	}, NodeTimeout(time.Minute))
	return w
}

// writeRecipeTest writes the RecipeTest to rt.yaml with the given tier entries (YAML under
// spec.tiers); without any, the install tier only, to keep runs short.
func (w *world) writeRecipeTest(tiers ...string) {
	if len(tiers) == 0 {
		tiers = []string{"- name: install"}
	}
	var list strings.Builder
	for _, t := range tiers {
		for _, line := range strings.Split(t, "\n") {
			list.WriteString("    " + line + "\n")
		}
	}
	w.write("rt.yaml", fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %s
spec:
  recipe: sample
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
  tiers:
%s  timeout: 5m
`, w.name, w.recipe, list.String()))
}

// writeWarmCanonical writes the WarmCanonical to wc.yaml with extra spec lines. A timeout among
// them replaces the default one (a key written twice is an error).
func (w *world) writeWarmCanonical(version string, extra ...string) {
	timeout := "  timeout: 1m\n"
	for _, e := range extra {
		if strings.HasPrefix(e, "timeout:") {
			timeout = ""
		}
	}
	spec := fmt.Sprintf("  version: %q\n  stack: %s\n%s", version, w.stack, timeout)
	for _, e := range extra {
		spec += "  " + e + "\n"
	}
	w.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n%s", w.name, spec))
}

// write replaces a resource file the way editors do: a temporary file renamed over it.
func (w *world) write(file, content string) {
	tmp := filepath.Join(w.resources, "."+file+".tmp")
	Expect(os.WriteFile(tmp, []byte(content), 0o644)).To(Succeed())
	Expect(os.Rename(tmp, filepath.Join(w.resources, file))).To(Succeed())
}

// args are the global and scoping flags every command of the spec gets.
func (w *world) args(cmd string, rest ...string) []string {
	a := []string{"--resources", w.resources, "--state", w.state, cmd}
	if cmd != "get" && cmd != "describe" {
		a = append(a, "--label", v1.LabelTestSuite+"="+suiteID)
	}
	return append(a, rest...)
}

// ccci runs a one-shot command and returns its stdout, stderr and exit code.
func (w *world) ccci(ctx context.Context, cmd string, rest ...string) (string, string, int) {
	c := exec.CommandContext(ctx, ccciBinary(), w.args(cmd, rest...)...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	GinkgoWriter.Printf("$ ccci %s %s -> %d\n%s%s", cmd, strings.Join(rest, " "), code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

// sweepAction runs sweep and returns the ACTION of the spec's object and the exit code.
func (w *world) sweepAction(ctx context.Context, extra ...string) (string, int) {
	out, _, code := w.ccci(ctx, "sweep", extra...)
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == w.name {
			return f[3], code
		}
	}
	Fail("sweep printed no line for " + w.name + ":\n" + out)
	return "", code
}

// daemon is a running `ccci-controller run`.
type daemon struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

// startDaemon starts the daemon with extra flags on a free loopback port and stops it when
// the spec ends.
func (w *world) startDaemon(ctx context.Context, extra ...string) *daemon {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	d := &daemon{url: "http://" + addr, logs: &bytes.Buffer{}}
	args := append(w.args("run", "--listen", addr, "--sweep-interval", "1h"), extra...)
	d.cmd = exec.Command(ccciBinary(), args...)
	d.cmd.Stdout, d.cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(d.cmd.Start()).To(Succeed())
	DeferCleanup(d.stop)
	Eventually(func() error {
		resp, err := http.Get(d.url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}).WithContext(ctx).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	return d
}

// stop ends the daemon with SIGTERM, if it still runs.
func (d *daemon) stop() {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// kill ends the daemon with SIGKILL: no clean-up of any kind.
func (d *daemon) kill() {
	Expect(d.cmd.Process.Kill()).To(Succeed())
	_, _ = d.cmd.Process.Wait()
}

func (d *daemon) alive() bool {
	resp, err := http.Get(d.url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// status reads the WarmCanonical's status from the state directory.
func (w *world) status() v1.WarmCanonicalStatus {
	st, err := store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	var s v1.WarmCanonicalStatus
	_, _ = st.Get(v1.KindWarmCanonical, w.name, &s)
	return s
}

// ready returns the Ready condition's status and reason.
func (w *world) ready() string {
	c, _ := w.status().Conditions.Get(v1.ConditionReady)
	return string(c.Status) + "/" + c.Reason
}

// runs returns the RecipeTest's run history, newest first.
func (w *world) runs() []v1.Run { return w.runsOf(w.name) }

// runsOf returns the run history of the RecipeTest name, newest first.
func (w *world) runsOf(name string) []v1.Run {
	st, err := store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	runs, err := controllers.LoadRuns(st, name)
	Expect(err).NotTo(HaveOccurred())
	return runs
}

// promotionsOf returns the promotion history of the WarmCanonical name.
func (w *world) promotionsOf(name string) []controllers.Promotion {
	st, err := store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	ps, err := controllers.Promotions(st, name)
	Expect(err).NotTo(HaveOccurred())
	return ps
}

// promotions returns the WarmCanonical's promotion history.
func (w *world) promotions() []controllers.Promotion {
	st, err := store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	ps, err := controllers.Promotions(st, w.name)
	Expect(err).NotTo(HaveOccurred())
	return ps
}

// serviceIndexes returns the Version.Index of every service of the warm stack.
func (w *world) serviceIndexes(ctx context.Context) map[string]uint64 {
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelStackNamespace+"="+w.stack))})
	Expect(err).NotTo(HaveOccurred())
	m := map[string]uint64{}
	for _, s := range services {
		m[s.Spec.Name] = s.Version.Index
	}
	return m
}

// stackVersion returns the version label of stack's app service, read through the Docker
// client ("" when it has none).
func stackVersion(ctx context.Context, stack string) string {
	s, _, err := docker.ServiceInspectWithRaw(ctx, stack+"_app", swarm.ServiceInspectOptions{})
	if err != nil {
		return ""
	}
	return s.Spec.Labels[v1.VersionLabel(stack)]
}

// deployedVersion returns the warm stack's version label ("" when nothing runs), read from the
// app service's labels through the Docker client, not through the product's observation code.
func (w *world) deployedVersion(ctx context.Context) string {
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("name", w.stack+"_app"))})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		if s.Spec.Name == w.stack+"_app" {
			return s.Spec.Labels[v1.VersionLabel(w.stack)]
		}
	}
	return ""
}

// serviceImage returns the image the warm stack's service runs, as Swarm has it.
func (w *world) serviceImage(ctx context.Context, service string) string {
	s, _, err := docker.ServiceInspectWithRaw(ctx, w.stack+"_"+service, swarm.ServiceInspectOptions{})
	Expect(err).NotTo(HaveOccurred())
	return s.Spec.TaskTemplate.ContainerSpec.Image
}

// testStacks lists the throw-away stacks of this suite still on Swarm.
func testStacks(ctx context.Context) []string {
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", v1.LabelTestSuite+"="+suiteID), filters.Arg("label", v1.LabelRun))})
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, s := range services {
		names = append(names, s.Spec.Labels[v1.LabelStackNamespace])
	}
	return names
}

func ccciswarmClient() (*ccciswarm.Client, error) { return ccciswarm.NewClient() }
