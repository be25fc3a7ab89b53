//go:build integration

package integration

import (
	"context"
	"fmt"
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
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// serviceWatch records, from Docker, every service of this suite's test runs and its env
// while a run goes on.
type serviceWatch struct {
	mu   sync.Mutex
	envs map[string][]string // service name → env
	stop context.CancelFunc
	done chan struct{}
}

func watchRunServices(ctx context.Context) *serviceWatch {
	ctx, cancel := context.WithCancel(ctx)
	sw := &serviceWatch{envs: map[string][]string{}, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(sw.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: filters.NewArgs(
				filters.Arg("label", v1.LabelTestSuite+"="+suiteID), filters.Arg("label", v1.LabelRun))})
			if err == nil {
				sw.mu.Lock()
				for _, s := range services {
					if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
						sw.envs[s.Spec.Name] = cs.Env
					}
				}
				sw.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	return sw
}

func (sw *serviceWatch) seen() map[string][]string {
	sw.stop()
	<-sw.done
	return sw.envs
}

// runLeftovers lists every object of this suite's runs still on Swarm, read through Docker.
func runLeftovers(ctx context.Context) []string {
	f := filters.NewArgs(filters.Arg("label", v1.LabelTestSuite+"="+suiteID), filters.Arg("label", v1.LabelRun))
	var out []string
	services, err := docker.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range services {
		out = append(out, "service "+s.Spec.Name)
	}
	nets, err := docker.NetworkList(ctx, network.ListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, n := range nets {
		out = append(out, "network "+n.Name)
	}
	secs, err := docker.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, s := range secs {
		out = append(out, "secret "+s.Spec.Name)
	}
	cfgs, err := docker.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, c := range cfgs {
		out = append(out, "config "+c.Spec.Name)
	}
	vols, err := docker.VolumeList(ctx, volume.ListOptions{Filters: f})
	Expect(err).NotTo(HaveOccurred())
	for _, v := range vols.Volumes {
		out = append(out, "volume "+v.Name)
	}
	return out
}

var _ = Describe("RecipeTest spec.requires", func() {
	It("starts a required recipe as a throw-away stack before the tiers, uses a warm app as it runs, and leaves nothing behind", func(ctx SpecContext) {
		By("a warm app the run will use as it runs")
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag10)
		out, errOut, code := w.ccci(ctx, "sweep")
		Expect(code).To(Equal(0), out+errOut)
		warmBefore := w.serviceIndexes(ctx)

		By("a RecipeTest that requires another recipe at a version and that warm app")
		dep, err := fixtures.SampleRecipe(filepath.Join(w.dir, "dep-recipe"))
		Expect(err).NotTo(HaveOccurred())
		needs := "n" + randomID()
		w.write("needs.yaml", fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %s
spec:
  recipe: sample
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.{{ .Requires.dep.Stack }}.{{ .Requires.warm.Stack }}.example.org"
  requires:
    - name: dep
      recipe: dep
      source: {git: %s}
      version: %q
      env:
        DOMAIN: "{{ .Stack }}.dep.example.org"
    - name: warm
      warmCanonical: %s
  tiers:
    - name: install
  timeout: 5m
`, needs, w.recipe, dep, tag11, w.name))
		watch := watchRunServices(ctx)
		out, errOut, code = w.ccci(ctx, "trigger", "recipetest/"+needs, "--ref", tag11)
		seen := watch.seen()
		Expect(code).To(Equal(0), out+errOut)

		By("reading what Docker ran: the required stack, and the test stack's env naming it")
		var depApp, mainApp string
		for name := range seen {
			switch {
			case strings.HasPrefix(name, "ccci_dep_") && strings.HasSuffix(name, "_req_app"):
				depApp = name
			case strings.HasPrefix(name, "ccci_sample_") && strings.HasSuffix(name, "_app"):
				mainApp = name
			}
		}
		Expect(depApp).NotTo(BeEmpty(), "a throw-away stack of the required recipe ran: %v", seen)
		Expect(mainApp).NotTo(BeEmpty(), "the test stack ran: %v", seen)
		depStack, mainStack := strings.TrimSuffix(depApp, "_app"), strings.TrimSuffix(mainApp, "_app")
		Expect(seen[depApp]).To(ContainElement("DOMAIN=" + depStack + ".dep.example.org"))
		Expect(seen[mainApp]).To(ContainElement(fmt.Sprintf("DOMAIN=%s.%s.%s.example.org", mainStack, depStack, w.stack)))

		By("nothing of the run left on Swarm, and the warm app untouched")
		Eventually(func() []string { return runLeftovers(ctx) }).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeEmpty())
		Expect(w.serviceIndexes(ctx)).To(Equal(warmBefore), "a required warm app is never written to")

		By("a required app that cannot start: Aborted naming it, nothing left behind")
		w.write("needs.yaml", fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %s
spec:
  recipe: sample
  source:
    git: %s
  requires:
    - name: dep
      recipe: dep
      source: {git: %s}
      version: %q
      env:
        SAMPLE_UNHEALTHY: "true"
  tiers:
    - name: install
  timeout: 5m
`, needs, w.recipe, dep, tag11))
		out, errOut, code = w.ccci(ctx, "trigger", "recipetest/"+needs, "--ref", tag11)
		if code != 1 {
			logs, _ := exec.CommandContext(ctx, "sh", "-c", "cat "+w.state+"/runs/*/*/logs/*.log").CombinedOutput()
			GinkgoWriter.Printf("run logs:\n%s", logs)
		}
		Expect(code).To(Equal(1), out+errOut)
		Expect(out + errOut).To(ContainSubstring("was aborted, not judged"))
		Expect(out + errOut).To(ContainSubstring("required app dep (dep " + tag11))
		runs := w.runsOf(needs)
		Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
		Expect(slices.ContainsFunc(runs[0].Tiers, func(t v1.TierResult) bool { return t.Result == v1.ResultFailed })).To(BeFalse(), "no tier judged")
		Eventually(func() []string { return runLeftovers(ctx) }).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(BeEmpty())
	}, NodeTimeout(8*time.Minute))
})
