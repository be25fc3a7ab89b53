//go:build faults

package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/swarm"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// kills is how many times the spec SIGKILLs the daemon.
const kills = 50

// killWorld is two warm apps gated by install runs (test stacks and their teardowns): a, moved
// from 1.0 to 1.1 early, then given an environment that makes it unhealthy (a deploy that does
// not converge and is rolled back) and later given its healthy one back; b, moved late, with
// drift: correct against hand edits.
type killWorld struct {
	*world
	a, b string
}

func (k *killWorld) write(aVersion, bVersion string, aUnhealthy bool) {
	doc := func(name, tier, version, extra string) string {
		return fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
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
    - name: %[3]s
  timeout: 5m
---
apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: %[1]s
spec:
  version: %[4]q
  stack: warm_%[1]s
  timeout: 20s
%[5]s---
`, name, k.recipe, tier, version, extra)
	}
	aExtra := ""
	if aUnhealthy {
		aExtra = "  env:\n    SAMPLE_UNHEALTHY: \"true\"\n"
	}
	content := doc(k.a, "install", aVersion, aExtra) + doc(k.b, "install", bVersion, "  drift: correct\n")
	tmp := filepath.Join(k.resources, ".apps.yaml.tmp")
	Expect(os.WriteFile(tmp, []byte(content), 0o644)).To(Succeed())
	Expect(os.Rename(tmp, filepath.Join(k.resources, "apps.yaml"))).To(Succeed())
}

// service returns the app service of warm app name.
func service(ctx context.Context, name string) (swarm.Service, error) {
	s, _, err := docker.ServiceInspectWithRaw(ctx, "warm_"+name+"_app", swarm.ServiceInspectOptions{})
	return s, err
}

// handEdit adds an environment variable to b's service, as a person with docker service update.
func handEdit(ctx context.Context, name string) bool {
	s, err := service(ctx, name)
	if err != nil {
		return false
	}
	spec := s.Spec
	spec.TaskTemplate.ContainerSpec.Env = append(spec.TaskTemplate.ContainerSpec.Env, "HAND=edit")
	_, err = docker.ServiceUpdate(ctx, s.ID, s.Version, spec, swarm.ServiceUpdateOptions{})
	return err == nil
}

// versionWatch records, for each warm app, the sequence of version labels its app service took.
type versionWatch struct {
	mu   sync.Mutex
	seen map[string][]string
}

func (v *versionWatch) run(ctx context.Context, names ...string) {
	for ctx.Err() == nil {
		for _, n := range names {
			s, err := service(ctx, n)
			if err != nil {
				continue
			}
			l := s.Spec.Labels[v1.VersionLabel("warm_"+n)]
			v.mu.Lock()
			if seq := v.seen[n]; len(seq) == 0 || seq[len(seq)-1] != l {
				v.seen[n] = append(seq, l)
			}
			v.mu.Unlock()
		}
		time.Sleep(200 * time.Millisecond) // test poller
	}
}

func (v *versionWatch) of(name string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.seen[name])
}

// point says what the daemon was doing when it was killed, read from Docker.
func point(ctx context.Context, k *killWorld, ready bool) string {
	if !ready {
		return "start-up"
	}
	for _, n := range []string{k.a, k.b} {
		s, err := service(ctx, n)
		if err != nil || s.UpdateStatus == nil {
			continue
		}
		switch st := s.UpdateStatus.State; {
		case st == swarm.UpdateStateRollbackStarted:
			return "rollback (Swarm's)"
		case st != swarm.UpdateStateUpdating:
		case slices.Contains(s.Spec.TaskTemplate.ContainerSpec.Env, "SAMPLE_UNHEALTHY=true"):
			return "deploy that will not converge (then rolled back)"
		case s.PreviousSpec != nil && slices.Contains(s.PreviousSpec.TaskTemplate.ContainerSpec.Env, "HAND=edit"):
			return "drift correction"
		case s.PreviousSpec != nil && s.PreviousSpec.Labels[v1.VersionLabel("warm_"+n)] == s.Spec.Labels[v1.VersionLabel("warm_"+n)]:
			return "rollback of a spec.env edit"
		default:
			return "promotion"
		}
	}
	if l := leftovers(ctx); len(l) > 0 {
		for _, o := range l {
			if strings.HasPrefix(o, "service ") {
				return "test run (stack up)"
			}
		}
		return "teardown of a test stack"
	}
	return "reconcile or idle"
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

var _ = Describe("fifty SIGKILLs of the controller at random points", func() {
	It("never promotes a version twice, ends every warm app at its desired version, leaves no corrupt record and no labelled object", func(ctx SpecContext) {
		k := &killWorld{world: newWorld()}
		k.a, k.b = k.name+"a", k.name+"b"
		seed := uint64(time.Now().UnixNano())
		rnd := rand.New(rand.NewPCG(seed, 26))
		GinkgoWriter.Printf("kill schedule seed %d\n", seed)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		start := func() *daemon {
			d := &daemon{url: "http://" + addr}
			d.cmd = k.command(context.WithoutCancel(ctx), "run", "--listen", addr, "--sweep-interval", "1h", "--max-runs", "2")
			d.cmd.Stdout, d.cmd.Stderr = GinkgoWriter, GinkgoWriter
			Expect(d.cmd.Start()).To(Succeed())
			DeferCleanup(d.kill)
			return d
		}
		watch := &versionWatch{seen: map[string][]string{}}
		wctx, stopWatch := context.WithCancel(ctx)
		DeferCleanup(stopWatch)
		go watch.run(wctx, k.a, k.b)

		k.write(tag10, tag10, false)
		points := map[string]int{}
		var recoveries []time.Duration
		edits := 0
		for i := range kills {
			switch {
			case i == 12:
				k.write(tag11, tag10, false)
			case i == 20:
				k.write(tag11, tag10, true)
			case i == 30:
				k.write(tag11, tag11, true)
			case i == 38:
				k.write(tag11, tag11, false)
			case edits < 2 && i%4 == 0 && handEdit(ctx, k.b):
				edits++
			}
			d := start()
			began := time.Now()
			// Mostly short lives, some long enough for a run or a promotion to finish.
			delay := time.Duration(500+rnd.IntN(3500)) * time.Millisecond
			if rnd.IntN(10) < 3 {
				delay = time.Duration(6000+rnd.IntN(8000)) * time.Millisecond
			}
			// A fifth of the kills fall at random in the start-up; the others count their
			// delay from readiness, where the work is (on a loaded host start-up alone took
			// most lives). A start-up longer than 30 s is killed too.
			duringStartup := rnd.IntN(5) == 0
			ready := false
			clock := began
			for time.Since(clock) < delay || (!ready && !duringStartup && time.Since(began) < 30*time.Second) {
				if !ready && strings.HasPrefix(d.get("/readyz"), "200 ") {
					ready = true
					recoveries = append(recoveries, time.Since(began))
					if !duringStartup {
						clock = time.Now()
					}
				}
				time.Sleep(50 * time.Millisecond) // test loop: poll readiness until the kill
			}
			p := point(ctx, k, ready)
			points[p]++
			d.kill()
		}
		GinkgoWriter.Printf("FIGURE %d kills, %d hand edits; points hit:\n", kills, edits)
		for p, n := range points {
			GinkgoWriter.Printf("  %2d  %s\n", n, p)
			AddReportEntry("kills at "+p, n)
		}
		Expect(recoveries).NotTo(BeEmpty())
		GinkgoWriter.Printf("FIGURE ready again after a restart: p50 %s, p99 %s (%d of %d restarts got ready before the next kill)\n",
			percentile(recoveries, 0.5).Round(time.Millisecond), percentile(recoveries, 0.99).Round(time.Millisecond), len(recoveries), kills)
		AddReportEntry("ready after restart p50/p99", percentile(recoveries, 0.5).String()+" / "+percentile(recoveries, 0.99).String())

		By("letting the last daemon run to the end: every warm app at its desired version, judged by Docker")
		last := start()
		finalStart := time.Now()
		label := func(name string) func() string {
			return func() string {
				s, err := service(ctx, name)
				if err != nil {
					return err.Error()
				}
				return s.Spec.Labels[v1.VersionLabel("warm_"+name)]
			}
		}
		Eventually(label(k.a)).WithTimeout(6 * time.Minute).WithPolling(time.Second).Should(Equal(tag11))
		Eventually(label(k.b)).WithTimeout(6 * time.Minute).WithPolling(time.Second).Should(Equal(tag11))
		// A killed run's volumes carry its run and owner labels: start-up garbage collection
		// finds them even when the kill came after its services were gone.
		Eventually(leftovers).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(BeEmpty())
		AddReportEntry("converged after the last restart", time.Since(finalStart).Round(time.Second).String())
		GinkgoWriter.Printf("FIGURE converged %s after the last restart; versions seen: a %v, b %v\n", time.Since(finalStart).Round(time.Second), watch.of(k.a), watch.of(k.b))

		By("each version promoted at most once: the label sequences and the last spec written")
		for _, n := range []string{k.a, k.b} {
			seq := watch.of(n)
			Expect(seq).To(Equal(slices.Compact(slices.Sorted(slices.Values(seq)))), "%s: versions in the order promoted, none twice", n)
			s, err := service(ctx, n)
			Expect(err).NotTo(HaveOccurred())
			// A last write from 1.1 to 1.1 is a rollback of a's unhealthy environment or a drift
			// correction of b's hand edit, never a second promotion.
			if p := s.PreviousSpec; p != nil && p.Labels[v1.VersionLabel("warm_"+n)] == tag11 {
				Expect(p.TaskTemplate.ContainerSpec.Env).To(ContainElement(BeElementOf("SAMPLE_UNHEALTHY=true", "HAND=edit")),
					"%s: the last write redeployed 1.1 over 1.1 and was neither a rollback nor a drift correction", n)
			}
		}
		sb, err := service(ctx, k.b)
		Expect(err).NotTo(HaveOccurred())
		Expect(sb.Spec.TaskTemplate.ContainerSpec.Env).NotTo(ContainElement("HAND=edit"))
		By("a running healthy again: its unhealthy environment was rolled back or never kept, and its healthy one is what runs")
		Eventually(func() []string {
			s, err := service(ctx, k.a)
			if err != nil {
				return []string{err.Error()}
			}
			return s.Spec.TaskTemplate.ContainerSpec.Env
		}).WithContext(ctx).WithTimeout(2 * time.Minute).WithPolling(time.Second).ShouldNot(ContainElement("SAMPLE_UNHEALTHY=true"))
		last.kill()
		stateFilesIntact(k.state)
		Expect(leftovers(ctx)).To(BeEmpty())
	}, NodeTimeout(20*time.Minute))
})
