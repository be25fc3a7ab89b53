//go:build integration

package integration

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// countingTransport counts the Engine API calls that can change something: every method but
// GET and HEAD.
type countingTransport struct {
	next   http.RoundTripper
	mu     sync.Mutex
	writes []string
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		t.mu.Lock()
		t.writes = append(t.writes, req.Method+" "+req.URL.Path)
		t.mu.Unlock()
	}
	return t.next.RoundTrip(req)
}

func (t *countingTransport) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.writes)
}

var _ = Describe("plan on a real Swarm", func() {
	It("makes no Engine API write and says what each next reconcile then does", func(ctx SpecContext) {
		w := newWorld()
		w.writeRecipeTest()
		w.writeWarmCanonical(tag10)

		By("wiring the reconciler to a Docker client that counts write calls")
		plain, err := ccciswarm.NewClient()
		Expect(err).NotTo(HaveOccurred())
		counter := &countingTransport{next: plain.Docker().HTTPClient().Transport}
		sw, err := ccciswarm.NewClient(client.WithHTTPClient(&http.Client{Transport: counter}))
		Expect(err).NotTo(HaveOccurred())
		st, err := store.Open(w.state)
		Expect(err).NotTo(HaveOccurred())
		objects := &controllers.Dir{Root: w.resources}
		recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(w.state, "cache")}}
		logCtx := logr.NewContext(ctx, GinkgoLogr)
		pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes, Context: logCtx,
			Tester: tiers.NewRunner(sw, tiers.Options{Labels: suiteLabels()}),
			Progress: func(_ controllers.RunRequest, ev tiers.ProgressEvent) {
				GinkgoWriter.Printf("tier %s done=%t %s %s\n", ev.Tier, ev.Done, ev.Result.Result, ev.Result.Reason)
			}}
		DeferCleanup(pool.Shutdown)
		r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Recipes: recipes, Runs: pool,
			Cluster: &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: suiteLabels()}}

		// step plans, checks the plan wrote nothing, reconciles once, and checks the reconcile
		// did what the plan said.
		step := func(want string) controllers.Outcome {
			before := counter.count()
			planned, err := r.Plan(ctx, w.name, false)
			Expect(err).NotTo(HaveOccurred())
			Expect(counter.count()).To(Equal(before), "plan made Engine API writes")
			Expect(planned.Plan.String()).To(Equal(want))
			done, err := r.ReconcileOnce(ctx, w.name, false)
			Expect(err).NotTo(HaveOccurred())
			Expect(done.Plan).To(Equal(planned.Plan), "the reconcile did something else than planned")
			return done
		}

		By("nothing deployed: TEST, and the reconcile starts that run")
		out := step("TEST " + tag10)
		Expect(out.RunID).NotTo(BeEmpty())
		run, err := pool.Wait(ctx, w.name, out.RunID)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(run.Verdict)).To(Equal("Passed"), run.Message)

		By("the run passed: the plan command says PROMOTE too")
		cmd := exec.CommandContext(ctx, ccciBinary(), "--resources", w.resources, "--state", w.state, "plan", "wc/"+w.name)
		stdout, err := cmd.Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(planLine(string(stdout), w.name)).To(ContainElement("PROMOTE"))

		By("PROMOTE, and the reconcile deploys")
		writes := counter.count()
		Expect(step("PROMOTE (none)→" + tag10).Result).To(Equal(controllers.ResultPromoted))
		Expect(counter.count()).To(BeNumerically(">", writes))

		By("CONVERGED, and the reconcile writes nothing either")
		writes = counter.count()
		Expect(step("CONVERGED").Result).To(Equal(controllers.ResultConverged))
		Expect(counter.count()).To(Equal(writes))
	}, NodeTimeout(4*time.Minute))
})

// planLine returns the fields of name's line in plan's output.
func planLine(out, name string) []string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return f
		}
	}
	Fail("plan printed no line for " + name + ":\n" + out)
	return nil
}
