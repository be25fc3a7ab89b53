package tiers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// deploy loads the tree's compose files for the stack of role, deploys them (creating the
// stack's secrets) and waits until the stack converged.
func (x *execution) deploy(ctx context.Context, l *tierLog, t *tree, role StackRole) (*swarm.Stack, error) {
	name := x.stacks[role]
	st, err := x.load(t, name)
	if err != nil {
		return nil, err
	}
	for _, w := range st.Warnings {
		l.Printf("warning: %s", w)
	}
	// Test apps get fresh secrets whatever .env.sample says about generating them (nobody is
	// there to insert them by hand), unless spec.secrets gives a test value.
	secrets := map[string]swarm.SecretPolicy{}
	for key, s := range t.contents.Secrets {
		p := swarm.SecretPolicy{Length: s.Length, Charset: s.Charset, Generate: true}
		if v, ok := x.req.Spec.Secrets[key]; ok {
			value, err := x.r.opts.Secrets.Value("RecipeTest spec.secrets."+key, v)
			if err != nil {
				return nil, err
			}
			p.Value = value
		}
		secrets[key] = p
	}
	x.mu.Lock()
	x.touched[name] = true
	x.mu.Unlock()
	l.Printf("deploying stack %s at %s (compose files %s)", name, t.label(), strings.Join(t.contents.ComposeFiles, ":"))
	res, err := x.r.swarm.Deploy(ctx, st, swarm.DeployOptions{
		Version: t.tag, Role: v1.RoleTest, RunID: x.req.RunID, CreateMissingNetworks: true,
		Secrets: secrets, Labels: x.r.opts.Labels, Placement: placementOf(x.req.Spec.Placement), Images: x.pins,
	})
	if err != nil {
		return nil, fmt.Errorf("deploy %s to stack %s: %w", t.label(), name, err)
	}
	l.Printf("deployed: created %v, updated %v, removed %v", res.Created, res.Updated, res.Removed)
	if err := x.wait(ctx, l, name); err != nil {
		return nil, err
	}
	return st, nil
}

// wait waits until the stack converged; on failure it logs what Swarm says about every service
// and returns the wait's error, which names the service and its task error.
func (x *execution) wait(ctx context.Context, l *tierLog, stack string) error {
	err := x.r.swarm.WaitConverged(ctx, stack, remaining(ctx))
	if err == nil {
		l.Printf("stack %s converged", stack)
		return nil
	}
	obsCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), observeTimeout)
	defer cancel()
	if state, oerr := x.r.swarm.ObserveStack(obsCtx, stack); oerr == nil {
		for _, s := range state.Services {
			l.Printf("service %s: %d/%d running, %d healthy, update %q %s, errors %q", s.Name, s.Running, s.Desired, s.Healthy, s.UpdateState, s.UpdateMessage, s.Errors)
		}
	}
	// The wait's errors already name the stack, the service and the task error.
	return err
}

// checkVersion checks that the stack runs want according to abra's version label.
func (x *execution) checkVersion(ctx context.Context, l *tierLog, stack, want string) error {
	state, err := x.r.swarm.ObserveStack(ctx, stack)
	if err != nil {
		return fmt.Errorf("observe stack %s: %w", stack, err)
	}
	if !state.Converged() {
		return fmt.Errorf("stack %s is not converged", stack)
	}
	if want != "" && state.Version != want {
		return fmt.Errorf("stack %s runs version %q according to label %s, want %q", stack, state.Version, v1.VersionLabel(stack), want)
	}
	l.Printf("stack %s runs version %q with %d services converged", stack, state.Version, len(state.Services))
	return nil
}

// expectedVersion is the version label a deploy of t should leave: its tag, or for a ref that
// is not a tag the label its compose files set.
func expectedVersion(t *tree, st *swarm.Stack) string {
	if t.tag != "" {
		return t.tag
	}
	services := servicesOf(st)
	if i := slices.IndexFunc(services, func(s service) bool { return s.Name == appService }); i >= 0 {
		return services[i].Labels[v1.VersionLabel(st.Name)]
	}
	return ""
}

// placementOf turns spec.placement into the deploy's placement.
func placementOf(p *v1.Placement) swarm.Placement {
	if p == nil {
		return swarm.Placement{}
	}
	out := swarm.Placement{Constraints: p.Constraints}
	for _, pr := range p.Preferences {
		out.Spread = append(out.Spread, pr.Spread)
	}
	return out
}
