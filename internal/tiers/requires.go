package tiers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// Required is an app a run needs (RecipeTest spec.requires), resolved by the caller: either an
// existing warm app (Warm set) or a recipe to deploy as a throw-away stack of the run.
type Required struct {
	// Name is its spec.requires name, the key of the test env templates' .Requires.
	Name string
	// Warm is the stack of an existing warm app, used as it is and never written to; WarmEnv
	// is its spec.env.
	Warm    string
	WarmEnv v1.Env
	// Source, Recipe, Version and Env are the recipe deployed for the run.
	Source          Source
	Recipe, Version string
	Env             v1.Env
}

// requirement is a Required being prepared and started for a run.
type requirement struct {
	Required
	field string // spec.requires[i], for errors
	// stack is its stack name: the warm app's, or the run's throw-away one.
	stack string
	// For a throw-away one: its tree and its stack as loaded.
	tree   *tree
	loaded *swarm.Stack
	data   recipe.RequiredApp
}

// prepareRequires resolves every required app before the candidate's env is built, since the
// test env templates refer to them: a warm app must run; a recipe is checked out at its
// version and loaded for its stack. Its errors abort the run, naming the requirement.
func (x *execution) prepareRequires(ctx context.Context) error {
	for i, q := range x.req.Requires {
		rq := &requirement{Required: q, field: fmt.Sprintf("spec.requires[%d] (%s)", i, q.Name)}
		x.required = append(x.required, rq)
		if q.Warm != "" {
			if err := x.prepareWarm(ctx, rq); err != nil {
				return err
			}
			continue
		}
		if err := x.prepareRecipe(ctx, rq); err != nil {
			return err
		}
	}
	return nil
}

func (x *execution) prepareWarm(ctx context.Context, rq *requirement) error {
	rq.stack = rq.Warm
	state, err := x.r.swarm.ObserveStack(ctx, rq.stack)
	if err != nil {
		return fmt.Errorf("%s: observe warm app stack %s: %w", rq.field, rq.stack, err)
	}
	if len(state.Services) == 0 {
		return fmt.Errorf("%s: the warm app's stack %s runs no service (valid: a WarmCanonical that is deployed)", rq.field, rq.stack)
	}
	if !state.Converged() {
		// Tests against an app that is not healthy would judge it, not the recipe.
		return fmt.Errorf("%s: the warm app's stack %s is not converged (valid: a WarmCanonical that runs healthy)", rq.field, rq.stack)
	}
	nets, err := x.r.swarm.StackNetworks(ctx, rq.stack)
	if err != nil {
		return fmt.Errorf("%s: %w", rq.field, err)
	}
	rq.data = recipe.RequiredApp{Stack: rq.stack, Env: plainEnv(rq.WarmEnv, nil), Networks: nets}
	x.runLog.Printf("required app %s: warm app stack %s, used as it runs", rq.Name, rq.stack)
	return nil
}

func (x *execution) prepareRecipe(ctx context.Context, rq *requirement) error {
	if rq.Source == nil {
		return fmt.Errorf("%s: no source for recipe %s", rq.field, rq.Recipe)
	}
	co, contents, err := OpenTree(ctx, rq.Source, rq.Version, "", nil)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", rq.field, rq.Recipe, err)
	}
	rq.tree = &tree{checkout: co, tag: rq.Version, contents: contents}
	rq.stack = StackName(rq.Name, x.req.RunID, "req")
	st, app, err := LoadApp(co.Dir, contents, recipe.AppOptions{
		Stack: rq.stack, Recipe: rq.Recipe, RunID: x.req.RunID, Version: rq.Version,
		Templated: rq.Env, Reveal: x.r.opts.Secrets.Reveal, TemplatedField: "RecipeTest " + rq.field + " env",
	})
	if err != nil {
		return fmt.Errorf("%s: %w", rq.field, err)
	}
	rq.loaded = st
	rq.data = recipe.RequiredApp{Stack: rq.stack, Env: plainEnv(app.Env, rq.Env), Networks: stackNetworks(st)}
	return nil
}

// startRequires deploys the throw-away required apps and waits for them, side by side with
// nothing: the tiers start once every one converged. An app that cannot start aborts the run,
// naming it; it is no verdict on the recipe under test.
func (x *execution) startRequires(ctx context.Context) error {
	if !slices.ContainsFunc(x.steps, func(s Step) bool { return s.Action == ActionRun && s.Stack != StackNone }) {
		// No tier deploys (an untrusted ref refused at lint): nothing needs the apps.
		return nil
	}
	for _, rq := range x.required {
		if rq.loaded == nil {
			continue
		}
		secrets := map[string]swarm.SecretPolicy{}
		for key, s := range rq.tree.contents.Secrets {
			secrets[key] = swarm.SecretPolicy{Length: s.Length, Charset: s.Charset, Generate: true}
		}
		x.mu.Lock()
		x.touched[rq.stack] = true
		x.mu.Unlock()
		x.runLog.Printf("required app %s: deploying %s %s as stack %s", rq.Name, rq.Recipe, rq.Version, rq.stack)
		_, err := x.r.swarm.Deploy(ctx, rq.loaded, swarm.DeployOptions{
			Version: rq.Version, Role: v1.RoleTest, RunID: x.req.RunID, CreateMissingNetworks: true,
			Secrets: secrets, Labels: x.r.opts.Labels, Placement: placementOf(x.req.Spec.Placement), Images: x.pins,
		})
		if err == nil {
			err = x.wait(ctx, x.runLog, rq.stack)
		}
		rq.tree.checkout.Release()
		rq.tree = nil
		if err != nil {
			return fmt.Errorf("required app %s (%s %s, stack %s) did not start: %w", rq.Name, rq.Recipe, rq.Version, rq.stack, err)
		}
	}
	return nil
}

// requiresData is what the test env templates see as .Requires.
func (x *execution) requiresData() map[string]recipe.RequiredApp {
	if len(x.required) == 0 {
		return nil
	}
	out := make(map[string]recipe.RequiredApp, len(x.required))
	for _, rq := range x.required {
		out[rq.Name] = rq.data
	}
	return out
}

// requiredStacks are the throw-away stacks of the required apps, which the run removes.
func (x *execution) requiredStacks() []string {
	var out []string
	for _, rq := range x.required {
		if rq.Warm == "" && rq.stack != "" {
			out = append(out, rq.stack)
		}
	}
	return out
}

// releaseRequires releases the checkouts of required apps that were never started.
func (x *execution) releaseRequires() {
	for _, rq := range x.required {
		if rq.tree != nil {
			rq.tree.checkout.Release()
			rq.tree = nil
		}
	}
}

// plainEnv is env without the values that were encrypted in spec (or in env itself): a
// template must not copy a decrypted secret into another app's env by accident.
func plainEnv(env map[string]string, spec v1.Env) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if _, enc := v1.Ciphertext(v); enc {
			continue
		}
		if _, enc := v1.Ciphertext(spec[k]); enc {
			continue
		}
		out[k] = v
	}
	return out
}

// stackNetworks are the Swarm names of the networks a loaded stack declares: its own as
// <stack>_<key> (or their name:), the external ones by their name.
func stackNetworks(st *swarm.Stack) []string {
	var out []string
	for key, n := range st.Config.Networks {
		name := n.Name
		if name == "" {
			name = st.Name + "_" + key
			if n.External.External {
				name = key
			}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.SortFunc(out, strings.Compare)
	return out
}
