package main

import (
	"context"

	"github.com/go-logr/logr"

	"coopcloud.tech/ccci-controller/internal/resources"
)

// globalOptions are the persistent flags every subcommand shares. A subcommand constructor
// takes a *globalOptions; the values are set once flags are parsed, so read them in RunE, not
// in the constructor.
type globalOptions struct {
	// Resources is the directory of resource files (--resources, env CCCI_RESOURCES).
	Resources string
	// State is the state directory (--state, env CCCI_STATE).
	State string
	// Verbosity is the count of -v.
	Verbosity int
	// LogFormat is text or json (--log-format).
	LogFormat string
}

// logger returns the logger the root command put into the context.
func (o *globalOptions) logger(ctx context.Context) logr.Logger {
	return logr.FromContextOrDiscard(ctx)
}

// loadResources loads paths, or the resources directory when paths is empty. Invalid files
// and objects are in the returned errors (one *v1.Error each); the valid objects load anyway.
func (o *globalOptions) loadResources(paths ...string) (*resources.Set, []error) {
	if len(paths) == 0 {
		paths = []string{o.Resources}
	}
	return resources.Load(paths...)
}
