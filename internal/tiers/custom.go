package tiers

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// runCustom runs the tier's command against the main stack: in a container of its image when
// it names one (runCustomJob), else on the controller host in the candidate's checkout, which
// only trusted refs may do (see refusals). Exit code 0 passes.
func (x *execution) runCustom(ctx context.Context, t v1.Tier, l *tierLog) (string, error) {
	if t.Image != "" {
		return x.runCustomJob(ctx, t, l)
	}
	env := x.customEnv(t)
	env["RECIPE_DIR"] = x.cand.dir()
	env["ARTIFACTS_DIR"] = filepath.Join(x.req.RunDir, artifactsDir)
	env["DOCKER_HOST"] = x.r.opts.DockerHost
	l.Printf("running %q in %s with STACK_NAME=%s", t.Command, x.cand.dir(), env["STACK_NAME"])
	if err := RunCommand(ctx, Command{Args: t.Command, Dir: x.cand.dir(), Env: env}, l.Writer()); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s exited with code 0", strings.Join(t.Command, " ")), nil
}
