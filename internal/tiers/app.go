package tiers

import (
	"context"
	"fmt"

	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// OpenTree checks out a version of a recipe and reads what it contains: commit when given
// (the one a passed run tested), else the commit tag names now. The caller releases the
// checkout once done with the files (configs are read from it at deploy).
func OpenTree(ctx context.Context, src Source, tag, commit string, composeFiles []string) (*recipe.Checkout, *recipe.Contents, error) {
	if commit == "" {
		var err error
		if commit, err = src.Resolve(ctx, tag, 0); err != nil {
			return nil, nil, fmt.Errorf("resolve %s: %w", tag, err)
		}
	}
	co, err := src.Checkout(ctx, commit)
	if err != nil {
		return nil, nil, fmt.Errorf("check out %s (%s): %w", tag, commit, err)
	}
	contents, err := recipe.ReadContents(co.Dir, composeFiles, tag)
	if err != nil {
		co.Release()
		return nil, nil, err
	}
	return co, contents, nil
}

// LoadApp builds an app of a recipe tree (dir, with its contents) for the stack opts.Stack:
// its env and compose files (recipe.Contents.App), loaded as Swarm will run them. It is the
// one way warm apps, test stacks and required apps are built.
func LoadApp(dir string, contents *recipe.Contents, opts recipe.AppOptions) (*swarm.Stack, recipe.App, error) {
	app, err := contents.App(opts)
	if err != nil {
		return nil, app, err
	}
	st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, ComposeFiles: app.ComposeFiles, Env: app.Env, StackName: opts.Stack})
	if err != nil {
		return nil, app, fmt.Errorf("load %s %s: %w", opts.Recipe, opts.Version, err)
	}
	return st, app, nil
}
