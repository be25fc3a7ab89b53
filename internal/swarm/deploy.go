package swarm

import (
	"context"
	"errors"
)

// DeployOptions says what a deploy labels and what it may create.
type DeployOptions struct {
	// Version is the recipe version (a git tag such as 1.1.0+1.1) written to abra's label
	// coop-cloud.<STACK_NAME>.version on every service. Optional; empty keeps what the compose
	// file's deploy labels say.
	Version string
	// Role is RoleWarm or RoleTest of api/v1, written to LabelRole. Optional.
	Role string
	// RunID is the id of the test run owning the stack, written to LabelRun. Optional.
	RunID string
	// CreateMissingNetworks creates a missing external network (such as traefik's proxy) as an
	// attachable overlay instead of failing. Optional. Defaults to false.
	CreateMissingNetworks bool
	// Secrets says, per compose secret key (db_password), how a missing external secret is
	// generated. Optional; a key not listed is generated with 32 characters.
	Secrets map[string]SecretPolicy
	// Labels are extra labels put on every object the deploy creates (a test suite's id, say).
	// Optional.
	Labels map[string]string
}

// SecretPolicy says how a missing external secret is generated.
type SecretPolicy struct {
	// Length is the number of characters. Optional. Defaults to 32.
	Length int
	// Generate allows generating the secret when it is missing; false makes a missing secret an
	// error (the operator inserts it by hand).
	Generate bool
}

// DeployResult says what a deploy changed.
type DeployResult struct {
	// AlreadyDeployed is true when the stack already matched the desired state and nothing was
	// written to Swarm.
	AlreadyDeployed bool
	// Created, Updated and Removed list the service names (stack-scoped, e.g. app_app) that were
	// created, updated and pruned.
	Created, Updated, Removed []string
}

var errNotImplemented = errors.New("not implemented yet")

// Deploy makes the stack on Swarm match s, the way `docker stack deploy --prune` would, and
// labels every service with abra's version label and our bookkeeping labels. When every service
// already matches it makes no write call and returns AlreadyDeployed.
func (c *Client) Deploy(ctx context.Context, s *Stack, opts DeployOptions) (DeployResult, error) {
	return DeployResult{}, errNotImplemented
}
