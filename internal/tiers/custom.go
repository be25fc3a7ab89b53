package tiers

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// runCustom runs the tier's command on the controller host in the candidate's checkout, against
// the main stack; exit code 0 passes.
func (x *execution) runCustom(ctx context.Context, t v1.Tier, l *tierLog) (string, error) {
	version := x.rec.Version
	if version == "" {
		version = x.req.Ref
	}
	env := map[string]string{
		"STACK_NAME":    x.main.Name,
		"DOMAIN":        x.main.Env["DOMAIN"],
		"RECIPE":        x.req.Spec.Recipe,
		"VERSION":       version,
		"BASE_VERSION":  x.rec.BaseVersion,
		"TIER":          string(t.Name),
		"RUN_ID":        x.req.RunID,
		"RECIPE_DIR":    x.cand.dir(),
		"ARTIFACTS_DIR": filepath.Join(x.req.RunDir, artifactsDir),
		"DOCKER_HOST":   x.r.opts.DockerHost,
	}
	l.Printf("running %q in %s with STACK_NAME=%s", t.Command, x.cand.dir(), env["STACK_NAME"])
	if err := RunCommand(ctx, Command{Args: t.Command, Dir: x.cand.dir(), Env: env}, l.Writer()); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s exited with code 0", strings.Join(t.Command, " ")), nil
}
