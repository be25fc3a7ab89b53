package tiers

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/backup"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// tree is a checked-out recipe version with its contents.
type tree struct {
	checkout *recipe.Checkout
	tag      string // the version tag, empty for a ref that is not a tag
	contents *recipe.Contents
}

func (t *tree) dir() string { return t.checkout.Dir }

// label says what the tree is, for logs.
func (t *tree) label() string {
	if t.tag != "" {
		return t.tag
	}
	return "commit " + t.checkout.Commit
}

// prepare resolves and checks out the candidate (and the upgrade base when a tier needs it), and
// plans the tiers. Its errors say nothing about the recipe's fitness; the run is Aborted.
func (x *execution) prepare(ctx context.Context) error {
	if err := x.prepareRequires(ctx); err != nil {
		return err
	}
	spec, src := x.req.Spec, x.req.Source
	x.runLog.Printf("resolving ref %q (pr %d) of recipe %s", x.req.Ref, x.req.PR, spec.Recipe)
	commit, err := src.Resolve(ctx, x.req.Ref, x.req.PR)
	if err != nil {
		return fmt.Errorf("resolve candidate: %w", err)
	}
	if x.versions, err = src.Versions(ctx); err != nil {
		return fmt.Errorf("list versions: %w", err)
	}
	tag := ""
	if v, err := x.versions.Find(x.req.Ref); err == nil {
		tag = v.Tag
	}
	if x.cand, err = x.openTree(ctx, commit, tag, spec.ComposeFiles); err != nil {
		return fmt.Errorf("candidate: %w", err)
	}
	x.rec.Commit, x.rec.Version = commit, tag

	app, err := x.cand.contents.App(x.appOptions(x.cand, x.stacks[StackMain]))
	if err != nil {
		return fmt.Errorf("spec.env: %w", err)
	}
	// spec.env may extend the recipe's compose files ("$COMPOSE_FILE:compose.x.yml").
	x.cand.contents.ComposeFiles = app.ComposeFiles
	x.runLog.Printf("candidate %s, compose files %v", x.cand.label(), x.cand.contents.ComposeFiles)
	facts := Facts{Files: map[string]bool{}}
	candStack, err := x.load(x.cand, x.stacks[StackMain])
	if err != nil {
		// Install and lint fail on compose files that do not load; backup and restore stay
		// planned, so no verdict rests on a NotApplicable that was never established.
		facts.BackupCapable, candStack = true, nil
	} else {
		facts.BackupCapable = backup.For(candStack).Enabled()
	}
	trust := x.trustOf(ctx, commit, tag)
	x.runLog.Printf("ref %q (pr %d) is %s", x.req.Ref, x.req.PR, trust)
	x.rec.Trust = trust
	if trust == v1.TrustUntrusted {
		facts.Refused = x.refusals(candStack)
	}
	from, needBase := v1.FromKnownGood, false
	for _, t := range spec.Tiers {
		if t.When != nil && t.When.FileExists != "" {
			facts.Files[t.When.FileExists] = fileExists(x.cand.dir(), t.When.FileExists)
		}
		switch t.Name {
		case v1.TierUpgrade:
			from, needBase = t.From, true
		case v1.TierLint:
			needBase = true
		}
	}
	if needBase {
		b := ChooseBase(from, x.req.KnownGood, tag, x.versions)
		facts.Base, facts.BaseSkip, facts.BaseError = b.Base, b.BaseSkip, b.BaseError
		if b.Base != "" {
			if err := x.openBase(ctx, b.Base); err != nil {
				return err
			}
		}
	}
	x.steps = Plan(spec.Tiers, spec.ExpectedNA, facts)
	if len(facts.Refused) > 0 {
		return nil // nothing of the ref is deployed, so no image is resolved
	}
	return x.resolveImages(ctx, candStack)
}

func (x *execution) openBase(ctx context.Context, base string) error {
	commit, err := x.req.Source.Resolve(ctx, base, 0)
	if err != nil {
		return fmt.Errorf("resolve base version: %w", err)
	}
	// An overlay the candidate added is normal; the base deploys with the files it has.
	var files []string
	for _, f := range x.cand.contents.ComposeFiles {
		files = append(files, f)
	}
	co, err := x.req.Source.Checkout(ctx, commit)
	if err != nil {
		return fmt.Errorf("check out base version %s: %w", base, err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return !fileExists(co.Dir, f) })
	contents, err := recipe.ReadContents(co.Dir, files, base)
	if err != nil {
		co.Release()
		return fmt.Errorf("base version %s: %w", base, err)
	}
	x.base = &tree{checkout: co, tag: base, contents: contents}
	x.rec.BaseVersion = base
	x.runLog.Printf("upgrade base %s, compose files %v", base, contents.ComposeFiles)
	return nil
}

func (x *execution) openTree(ctx context.Context, commit, tag string, composeFiles []string) (*tree, error) {
	co, contents, err := OpenTree(ctx, x.req.Source, tag, commit, composeFiles)
	if err != nil {
		return nil, fmt.Errorf("ref %q: %w", x.req.Ref, err)
	}
	return &tree{checkout: co, tag: tag, contents: contents}, nil
}

func (x *execution) releaseTrees() {
	x.releaseRequires()
	for _, t := range []*tree{x.cand, x.base} {
		if t != nil {
			t.checkout.Release()
		}
	}
}

// appOptions are the options of a test app (see recipe.Contents.App): the recipe's
// .env.sample and abra.sh exports, the spec's env rendered for the stack over them,
// COMPOSE_FILE and STACK_NAME.
func (x *execution) appOptions(t *tree, stack string) recipe.AppOptions {
	return recipe.AppOptions{
		Stack: stack, Recipe: x.req.Spec.Recipe, RunID: x.req.RunID, Version: t.tag,
		Templated: x.req.Spec.Env, ComposeFiles: x.req.Spec.ComposeFiles,
		Reveal: x.r.opts.Secrets.Reveal, TemplatedField: "RecipeTest spec.env", Requires: x.requiresData(),
	}
}

// load reads the tree's compose files for stack.
func (x *execution) load(t *tree, stack string) (*swarm.Stack, error) {
	st, _, err := LoadApp(t.dir(), t.contents, x.appOptions(t, stack))
	return st, err
}

// fileExists says whether rel is a file of the recipe tree dir, read through the tree's root
// (see recipe.StatTreeFile): a link leaving the tree is not a file of it.
func fileExists(dir, rel string) bool {
	if !filepath.IsLocal(rel) {
		return false
	}
	_, err := recipe.StatTreeFile(dir, rel)
	return err == nil
}
