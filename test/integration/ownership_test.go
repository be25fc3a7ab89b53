//go:build integration

package integration

import (
	"bytes"
	"context"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// lockedBuffer is a process's output, read while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	GinkgoWriter.Write(p)
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a command of the controller running in the background.
type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan int
}

// start runs a one-shot command in the background; the spec's end kills it if it still runs.
func (w *world) start(cmd string, rest ...string) *process {
	p := &process{cmd: exec.Command(ccciBinary(), w.args(cmd, rest...)...), stderr: &lockedBuffer{}, done: make(chan int, 1)}
	p.cmd.Stdout, p.cmd.Stderr = GinkgoWriter, p.stderr
	Expect(p.cmd.Start()).To(Succeed())
	go func() {
		err := p.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		p.done <- code
	}()
	DeferCleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// runObjects lists, by kind, the names of everything on Swarm labelled with run, read through
// the Docker client.
func runObjects(ctx context.Context, run string) map[string][]string {
	f := filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+run))
	out := map[string][]string{}
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		out["service"] = append(out["service"], s.Spec.Name)
	}
	nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, n := range nets {
		out["network"] = append(out["network"], n.Name)
	}
	secs, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range secs {
		out["secret"] = append(out["secret"], s.Spec.Name)
	}
	cfgs, err := docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, c := range cfgs {
		out["config"] = append(out["config"], c.Spec.Name)
	}
	vols, err := docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, v := range vols.Volumes {
		out["volume"] = append(out["volume"], v.Name)
	}
	return out
}

// runServices returns the version index of each service of this suite's runs whose stack
// name ends in suffix, by run and service id.
func runServices(ctx context.Context, recipeStackPrefix string) map[string]map[string]uint64 {
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
		filters.Arg("label", v1.LabelTestSuite+"="+suiteID), filters.Arg("label", v1.LabelRun))})
	Expect(err).NotTo(HaveOccurred())
	out := map[string]map[string]uint64{}
	for _, s := range services {
		if !strings.HasPrefix(s.Spec.Labels[v1.LabelStackNamespace], recipeStackPrefix) {
			continue
		}
		run := s.Spec.Labels[v1.LabelRun]
		if out[run] == nil {
			out[run] = map[string]uint64{}
		}
		out[run][s.ID] = s.Version.Index
	}
	return out
}

// otherSetUp is the same world seen from another state directory, with no resources: a second
// controller installation on the same engine.
func (w *world) otherSetUp() *world {
	o := *w
	o.state = filepath.Join(w.dir, "state-other")
	o.resources = filepath.Join(w.dir, "resources-other")
	Expect(os.MkdirAll(o.resources, 0o755)).To(Succeed())
	return &o
}

var _ = Describe("two processes on one engine", func() {
	var w *world
	BeforeEach(func() {
		w = newWorld()
	})

	It("leaves a run in progress to the process that runs it, whatever other process starts", func(ctx SpecContext) {
		// The custom tier keeps the main stack busy while the upgrade tier runs beside it, so
		// that both stacks stand while the other processes start.
		w.writeRecipeTest("- name: install", "- name: upgrade\n  from: previous", `- name: custom
  command: ["sleep", "40"]`)
		stackPrefix := "ccci_sample_"
		first := w.start("trigger", "recipetest/"+w.name, "--ref", tag11)

		By("waiting for the first run's upgrade stack")
		var run string
		Eventually(func() bool {
			for r, svcs := range runServices(ctx, stackPrefix) {
				for _, name := range runObjects(ctx, r)["service"] {
					if strings.Contains(name, "_up_") && len(svcs) > 0 {
						run = r
						return true
					}
				}
			}
			return false
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(BeTrue())
		// The run's own upgrade updates its services in place; another process removing
		// anything of it would show as a service or network gone.
		before := slices.Collect(maps.Keys(runServices(ctx, stackPrefix)[run]))
		objects := runObjects(ctx, run)
		Expect(objects["service"]).NotTo(BeEmpty())
		Expect(objects["network"]).NotTo(BeEmpty())
		stillThere := func() {
			GinkgoHelper()
			Expect(slices.Collect(maps.Keys(runServices(ctx, stackPrefix)[run]))).To(ConsistOf(before), "the first run's services are all there")
			Expect(runObjects(ctx, run)["network"]).To(ConsistOf(objects["network"]), "the first run's networks are all there")
			Expect(first.done).NotTo(Receive(), "the first run is still running")
		}

		By("starting a daemon with another state directory: its garbage collection runs before it listens")
		other := w.otherSetUp()
		d := other.startDaemon(ctx)
		stillThere()

		By("describe naming the run's holder: a live process here, another owner from the other set-up")
		out, _, code := w.ccci(ctx, "describe", run)
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("State: in progress: a live process of this state directory holds its lease"))
		_, errOut, code := other.ccci(ctx, "describe", run)
		Expect(code).To(Equal(1))
		Expect(errOut).To(ContainSubstring("not a run of state directory " + other.state))
		Expect(errOut).To(ContainSubstring("belong to owner " + ownerOf(ctx, run)))

		By("starting a second trigger on the same state directory")
		w.write("rt2.yaml", installOnly(strings.ReplaceAll(readResource(w, "rt.yaml"), "name: "+w.name+"\n", "name: "+w.name+"b\n")))
		second := w.start("trigger", "recipetest/"+w.name+"b", "--ref", tag10)
		Eventually(second.stderr.String).WithContext(ctx).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).
			Should(ContainSubstring("Collected garbage"))
		stillThere()

		By("both runs passing")
		Eventually(first.done).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(time.Second).Should(Receive(Equal(0)))
		Eventually(second.done).WithContext(ctx).WithTimeout(5 * time.Minute).WithPolling(time.Second).Should(Receive(Equal(0)))
		d.stop()
		Expect(d.logs.String() + first.stderr.String() + second.stderr.String()).NotTo(ContainSubstring("Removed leftover test stack"))

		By("nothing of either run being left")
		Expect(w.runsOf(w.name)).To(HaveLen(1))
		Expect(w.runsOf(w.name)[0].Verdict).To(Equal(v1.VerdictPassed))
		for _, r := range []string{run, w.runsOf(w.name + "b")[0].ID} {
			Expect(runObjects(ctx, r)).To(BeEmpty(), "run %s", r)
		}

		By("the state directory and everything in it being 0700/0600 (the recipe cache aside)")
		Expect(filepath.WalkDir(w.state, func(path string, e fs.DirEntry, err error) error {
			Expect(err).NotTo(HaveOccurred())
			if e.IsDir() && e.Name() == "cache" && filepath.Dir(path) == w.state {
				return filepath.SkipDir
			}
			info, err := e.Info()
			Expect(err).NotTo(HaveOccurred())
			want := fs.FileMode(0o600)
			if e.IsDir() {
				want = 0o700
			}
			Expect(info.Mode().Perm()).To(Equal(want), path)
			return nil
		})).To(Succeed())
	}, NodeTimeout(10*time.Minute))

	It("collects a SIGKILLed run's leftovers at the next start of its own set-up only", func(ctx SpecContext) {
		w.writeRecipeTest()
		p := w.start("trigger", "recipetest/"+w.name, "--ref", tag10)

		By("waiting for the run's volume, then SIGKILL")
		var run string
		Eventually(func() bool {
			for r := range runServices(ctx, "ccci_sample_") {
				if len(runObjects(ctx, r)["volume"]) > 0 {
					run = r
					return true
				}
			}
			return false
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(BeTrue())
		Expect(p.cmd.Process.Kill()).To(Succeed())
		Eventually(p.done).WithContext(ctx).WithTimeout(10 * time.Second).WithPolling(100 * time.Millisecond).Should(Receive())
		left := runObjects(ctx, run)
		for _, kind := range []string{"service", "network", "secret", "config", "volume"} {
			Expect(left[kind]).NotTo(BeEmpty(), "a %s is left", kind)
		}

		By("another set-up's daemon starting: not its own, left alone")
		other := w.otherSetUp()
		d := other.startDaemon(ctx)
		d.stop()
		Expect(runObjects(ctx, run)).To(Equal(left))

		By("logs and describe in the other set-up naming the run's owner")
		for _, cmd := range []string{"logs", "describe"} {
			_, errOut, code := other.ccciPlain(ctx, cmd, run)
			Expect(code).To(Equal(1), cmd)
			Expect(errOut).To(ContainSubstring("not a run of state directory "+other.state), cmd)
			Expect(errOut).To(ContainSubstring("belong to owner "+ownerOf(ctx, run)), cmd)
		}
		out, _, code := w.ccci(ctx, "describe", run)
		Expect(code).To(Equal(0))
		Expect(out).To(ContainSubstring("no live process holds it"))

		By("a trigger of the same set-up starting: collected, volumes included")
		_, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag10)
		Expect(code).To(Equal(0))
		Expect(errOut).To(ContainSubstring("Removed leftover test stack"))
		Eventually(func() map[string][]string { return runObjects(ctx, run) }).WithContext(ctx).
			WithTimeout(time.Minute).WithPolling(time.Second).Should(BeEmpty())
	}, NodeTimeout(10*time.Minute))
})

// ownerOf returns the owner label Docker shows on run's services: what an operator sees in
// docker service inspect, and what describe and logs must name.
func ownerOf(ctx context.Context, run string) string {
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(filters.Arg("label", v1.LabelRun+"="+run))})
	Expect(err).NotTo(HaveOccurred())
	Expect(services).NotTo(BeEmpty())
	owner := services[0].Spec.Labels[v1.LabelOwner]
	host, err := os.Hostname()
	Expect(err).NotTo(HaveOccurred())
	Expect(owner).To(HavePrefix(host+"-"), "the owner label names the host")
	return owner
}

// readResource returns the content of one of the world's resource files.
func readResource(w *world, file string) string {
	b, err := os.ReadFile(filepath.Join(w.resources, file))
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// installOnly cuts a RecipeTest's tiers down to install.
func installOnly(rt string) string {
	head, _, _ := strings.Cut(rt, "  tiers:\n")
	return head + "  tiers:\n    - name: install\n  timeout: 5m\n"
}
