//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/store"
	ccciswarm "coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// benchWarmApps is the number of converged WarmCanonicals of the no-op sweep benchmark.
const benchWarmApps = 200

// apiCallCounter counts the Engine API requests going through it.
type apiCallCounter struct {
	next  http.RoundTripper
	calls atomic.Int64
}

func (t *apiCallCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	t.calls.Add(1)
	return t.next.RoundTrip(r)
}

// BenchmarkNoopSweep measures a sweep over 200 WarmCanonicals that are all converged (stacks of
// one service scaled to zero, labelled at the desired version): wall time per sweep and Engine
// API calls per sweep, which must not grow with the number of objects.
func BenchmarkNoopSweep(b *testing.B) {
	ctx := context.Background()
	id := randomID()
	labels := map[string]string{v1.LabelTestSuite: "bench-" + id}
	socket := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if socket == "" {
		socket = "/var/run/docker.sock"
	}
	counter := &apiCallCounter{next: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	sw, err := ccciswarm.NewClient(client.WithHTTPClient(&http.Client{Transport: counter}))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	repo, err := fixtures.SampleRecipe(filepath.Join(dir, "recipe"))
	if err != nil {
		b.Fatal(err)
	}
	res := filepath.Join(dir, "resources")
	if err := os.MkdirAll(res, 0o755); err != nil {
		b.Fatal(err)
	}
	var docs strings.Builder
	fmt.Fprintf(&docs, "apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: bench\nspec:\n  recipe: sample\n  source:\n    git: %s\n", repo)

	b.Logf("creating %d stacks of one service scaled to zero", benchWarmApps)
	docker := sw.Docker()
	var created []string
	b.Cleanup(func() {
		for _, sid := range created {
			_ = docker.ServiceRemove(context.Background(), sid)
		}
	})
	zero := uint64(0)
	for i := range benchWarmApps {
		stack := fmt.Sprintf("bench_%s_%03d", id, i)
		l := map[string]string{v1.LabelStackNamespace: stack, v1.VersionLabel(stack): tag10, v1.LabelTestSuite: labels[v1.LabelTestSuite]}
		resp, err := docker.ServiceCreate(ctx, swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: stack + "_app", Labels: l},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: fixtures.SampleImage("1.0")}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &zero}},
			EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
		}, swarm.ServiceCreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		created = append(created, resp.ID)
		fmt.Fprintf(&docs, "---\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: w%03d\nspec:\n  recipeTest: bench\n  version: %q\n  stack: %s\n", i, tag10, stack)
	}
	if err := os.WriteFile(filepath.Join(res, "bench.yaml"), []byte(docs.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		b.Fatal(err)
	}
	objects := &controllers.Dir{Root: res}
	recipes := &controllers.RecipeSources{Options: recipe.Options{CacheDir: filepath.Join(dir, "state", "cache")}}
	cluster := &controllers.SwarmCluster{Client: sw, Recipes: recipes, Labels: labels, Fresh: time.Minute}
	pool := &controllers.RunPool{Objects: objects, Store: st, Recipes: recipes}
	r := &controllers.WarmCanonicalReconciler{Objects: objects, Store: st, Cluster: cluster, Recipes: recipes, Runs: pool}
	sweep := func() {
		if err := cluster.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
		failed, err := r.Sweep(ctx, func(l controllers.SweepLine) {
			if l.Result != controllers.ResultConverged {
				b.Fatalf("%s: %s %s %v", l.Name, l.Result, l.Message, l.Err)
			}
		})
		if err != nil || failed {
			b.Fatalf("sweep failed: %v", err)
		}
	}
	b.Log("first sweep: records every status")
	sweep()
	counter.calls.Store(0)
	b.ResetTimer()
	for range b.N {
		sweep()
	}
	b.StopTimer()
	b.ReportMetric(float64(counter.calls.Load())/float64(b.N), "api-calls/op")
	b.ReportMetric(benchWarmApps, "objects")
}
