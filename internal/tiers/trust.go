package tiers

import (
	"context"
	"fmt"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// trustOf decides the candidate's trust (v1.RecipeTestSpec.TrustOf). A ref is on the default
// branch when it names it or is its head commit, as a Drone push build's commit id is.
func (x *execution) trustOf(ctx context.Context, commit, tag string) v1.Trust {
	spec, pr := x.req.Spec, x.req.PR > 0
	if spec.Trust != "" || pr || tag != "" {
		return spec.TrustOf(pr, tag != "", false)
	}
	branch := spec.Source.Branch
	if branch == "" {
		branch = v1.DefaultBranch
	}
	onBranch := x.req.Ref == branch
	if !onBranch {
		// A branch that cannot be resolved leaves the ref untrusted.
		head, err := x.req.Source.Resolve(ctx, branch, 0)
		onBranch = err == nil && head == commit
	}
	return spec.TrustOf(false, false, onBranch)
}

// refusals lists why an untrusted candidate may not run: what its loaded stack (nil when it
// did not load; install and lint then fail on that) asks of the host, and custom tiers without
// an image, which would run its code on the controller host.
func (x *execution) refusals(st *swarm.Stack) []string {
	var out []string
	if st != nil {
		var networks []string
		for _, rq := range x.required {
			networks = append(networks, rq.data.Networks...)
		}
		out = hostReach(st, networks)
	}
	for _, t := range x.req.Spec.Tiers {
		if t.Name == v1.TierCustom && t.Image == "" {
			out = append(out, fmt.Sprintf("tiers.custom.command %q without image (runs on the controller host)%s", strings.Join(t.Command, " "), untrustedSuffix))
		}
	}
	return out
}
