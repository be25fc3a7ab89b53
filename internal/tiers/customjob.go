package tiers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Where a custom tier's container sees the recipe and writes its artifacts.
const (
	jobRecipeDir    = "/recipe"
	jobArtifactsDir = "/artifacts"
	// jobName names the custom tier's service within the main stack: <stack>_ccci-custom.
	jobName = "ccci-custom"
)

// runCustomJob runs the custom tier's command in a one-off container of its image on the
// swarm (swarm.Client.RunJob): the candidate's checkout read-only at /recipe, /artifacts copied
// into the run's artifacts afterwards, attached to the main stack's networks, placed like the
// run's stacks. Exit code 0 passes. Nothing of the controller host is visible to it.
func (x *execution) runCustomJob(ctx context.Context, t v1.Tier, l *tierLog) (string, error) {
	files, err := treeTar(x.cand.dir())
	if err != nil {
		return "", fmt.Errorf("copy the checkout into the container: %w", err)
	}
	env := x.customEnv(t)
	env["RECIPE_DIR"], env["ARTIFACTS_DIR"] = jobRecipeDir, jobArtifactsDir
	artifacts := filepath.Join(x.req.RunDir, artifactsDir)
	l.Printf("running %q in a container of image %s on the networks of stack %s", t.Command, t.Image, x.main.Name)
	res, err := x.r.swarm.RunJob(ctx, swarm.Job{
		Stack: x.main.Name, Name: jobName, Image: t.Image, Command: t.Command, Env: env,
		Files: bytes.NewReader(files), FilesDir: jobRecipeDir, OutputDir: jobArtifactsDir,
		Output: func(r io.Reader) error { return extractArtifacts(r, artifacts) },
		Log:    l.Writer(), Role: v1.RoleTest, RunID: x.req.RunID, Labels: x.r.opts.Labels,
		Placement: placementOf(x.req.Spec.Placement),
	})
	if err != nil {
		return "", err
	}
	l.Printf("task %s on node %s: %s", res.State, res.Node, res.Message)
	return jobVerdict(t.Command, res)
}

// jobVerdict turns how the container ended into the tier's outcome: exit code 0 passes, any
// other exit fails, and a task that never ran its command (an image that cannot be pulled, a
// command that is not in it) fails with Swarm's word on why.
func jobVerdict(command []string, res swarm.JobResult) (string, error) {
	cmd := strings.Join(command, " ")
	switch {
	case res.State == "complete":
		return fmt.Sprintf("%s exited with code 0 in a container on node %s", cmd, res.Node), nil
	case res.ExitCode != 0:
		return "", fmt.Errorf("command %q exited with code %d", cmd, res.ExitCode)
	}
	return "", fmt.Errorf("command %q did not run: task %s: %s", cmd, res.State, res.Message)
}

// customEnv is the environment of a custom tier's command, wherever it runs.
func (x *execution) customEnv(t v1.Tier) map[string]string {
	version := x.rec.Version
	if version == "" {
		version = x.req.Ref
	}
	return map[string]string{
		"STACK_NAME":   x.main.Name,
		"DOMAIN":       x.main.Env["DOMAIN"],
		"RECIPE":       x.req.Spec.Recipe,
		"VERSION":      version,
		"BASE_VERSION": x.rec.BaseVersion,
		"TIER":         string(t.Name),
		"RUN_ID":       x.req.RunID,
	}
}
