//go:build multinode

package multinode

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// BenchmarkPromoteRig compares a version change of the sample recipe (1.0.0+1.0 <-> 1.1.0+1.1,
// two services) on the real 3-node rig, with the controller's Deploy + WaitConverged through
// the manager and every node's endpoint, against `docker stack deploy` on the manager followed
// by the same polling until converged. It builds the rig and tears it down.
func BenchmarkPromoteRig(b *testing.B) {
	ctx := context.Background()
	rigDir := os.Getenv("CCCI_MULTINODE")
	if rigDir == "" {
		rigDir = filepath.Join(fixtures.RepoRoot(), "..", "shared", "multinode")
	}
	if err := fixtures.BuildSampleImages(ctx); err != nil {
		b.Fatal(err)
	}
	var images []string
	for _, v := range fixtures.SampleImageVersions {
		images = append(images, fixtures.SampleImage(v))
	}
	script := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, filepath.Join(rigDir, name), args...)
		cmd.Env = append(os.Environ(), "MN_HEARTBEAT=1s", "MN_IMAGES="+strings.Join(images, " "))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v: %s", name, args, err, out)
		}
	}
	script("teardown.sh")
	b.Cleanup(func() { script("teardown.sh") })
	script("make-swarm.sh", "3")

	c, err := swarm.NewClient(client.WithHost(endpoint(mn1)), client.WithAPIVersionNegotiation())
	if err != nil {
		b.Fatal(err)
	}
	if err := c.SetNodeEndpoints(map[string]string{mn1: endpoint(mn1), mn2: endpoint(mn2), mn3: endpoint(mn3)}); err != nil {
		b.Fatal(err)
	}
	trees := filepath.Join(fixtures.RepoRoot(), "config", "sample-recipe")
	load := func(stack, tag string) (*swarm.Stack, recipe.App) {
		dir := filepath.Join(trees, tag)
		contents, err := recipe.ReadContents(dir, nil, tag)
		if err != nil {
			b.Fatal(err)
		}
		app, err := contents.App(recipe.AppOptions{Stack: stack, Version: tag})
		if err != nil {
			b.Fatal(err)
		}
		st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, ComposeFiles: app.ComposeFiles, Env: app.Env, StackName: stack})
		if err != nil {
			b.Fatal(err)
		}
		return st, app
	}
	ours, theirs := "bench_ours", "bench_cli"
	opts := swarm.DeployOptions{Role: v1.RoleTest, CreateMissingNetworks: true}
	deployOurs := func(tag string) {
		st, _ := load(ours, tag)
		o := opts
		o.Version = tag
		if _, err := c.Deploy(ctx, st, o); err != nil {
			b.Fatal(err)
		}
		if err := c.WaitConverged(ctx, ours, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	deployCLI := func(tag string) {
		_, app := load(theirs, tag)
		args := []string{"-H", endpoint(mn1), "stack", "deploy", "--resolve-image", "never", "--detach=true"}
		for _, f := range app.ComposeFiles {
			args = append(args, "-c", filepath.Join(trees, tag, f))
		}
		cmd := exec.CommandContext(ctx, "docker", append(args, theirs)...)
		cmd.Dir = filepath.Join(trees, tag)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+b.TempDir())
		for k, v := range app.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("docker stack deploy: %v: %s", err, out)
		}
		if err := c.WaitConverged(ctx, theirs, 3*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	// The CLI needs the external secret; Deploy generates it.
	st, _ := load(theirs, "1.0.0+1.0")
	o := opts
	o.Version = "1.0.0+1.0"
	if _, err := c.Deploy(ctx, st, o); err != nil {
		b.Fatal(err)
	}
	deployOurs("1.0.0+1.0")
	deployCLI("1.0.0+1.0")
	var oursTotal, cliTotal time.Duration
	b.ResetTimer()
	for i := range b.N {
		tag := []string{"1.1.0+1.1", "1.0.0+1.0"}[i%2]
		start := time.Now()
		deployOurs(tag)
		oursTotal += time.Since(start)
		start = time.Now()
		deployCLI(tag)
		cliTotal += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(oursTotal.Milliseconds())/float64(b.N), "ours-ms/op")
	b.ReportMetric(float64(cliTotal.Milliseconds())/float64(b.N), "cli-ms/op")
	b.ReportMetric(float64(oursTotal)/float64(cliTotal), "ours/cli")
}
