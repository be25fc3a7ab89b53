package swarm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// RegistryKind says how a registry failed an image.
type RegistryKind string

// The ways a registry fails. Every kind but RegistryNotFound is the infrastructure's fault: a
// run that meets one is Aborted and retried, never a red verdict.
const (
	// RegistryNotFound: the registry answered, and it has no such tag (manifest unknown). The
	// recipe names an image that does not exist.
	RegistryNotFound RegistryKind = "not found"
	// RegistryUnreachable: no answer (connection refused, no such host, reset).
	RegistryUnreachable RegistryKind = "unreachable"
	// RegistryTimeout: the registry did not answer in time.
	RegistryTimeout RegistryKind = "timed out"
	// RegistryRateLimited: 429 toomanyrequests.
	RegistryRateLimited RegistryKind = "rate limited"
	// RegistryServerError: a 5xx answer.
	RegistryServerError RegistryKind = "server error"
	// RegistryAuthFailed: credentials missing, wrong, or not allowed to read the image.
	RegistryAuthFailed RegistryKind = "authentication failed"
)

// RegistryError is a failed resolution or pull of an image, typed from the Engine's answer.
type RegistryError struct {
	// Kind says how it failed.
	Kind RegistryKind
	// Registry is the registry's host (docker.io for Docker Hub), Image the reference as
	// written.
	Registry, Image string
	// Err is the Engine's error. It never carries credentials: the Engine does not echo them.
	Err error
}

func (e *RegistryError) Error() string {
	if e.Kind == RegistryNotFound {
		return fmt.Sprintf("image %s: tag not found in registry %s: %v", e.Image, e.Registry, e.Err)
	}
	return fmt.Sprintf("registry %s %s for image %s: %v", e.Registry, e.Kind, e.Image, e.Err)
}

func (e *RegistryError) Unwrap() error { return e.Err }

// IsRegistryFailure reports whether err holds a *RegistryError that is the infrastructure's
// fault (every kind but RegistryNotFound). A run that meets one is Aborted.
func IsRegistryFailure(err error) bool {
	var re *RegistryError
	if errors.As(err, &re) && re.Kind != RegistryNotFound {
		return true
	}
	var pe *PullError
	return errors.As(err, &pe) && pe.Registry != ""
}

// PullError says the tasks of a service could not start because their node has no such image:
// its pull failed. The Engine keeps the pull's own error in its log and tells the task only
// "No such image". For an image pinned by digest (resolved before the deploy, so its registry
// had it) that is the registry's or the node's failure, and Registry names the registry;
// for an image deployed by tag it may be the recipe's, and Registry is empty.
type PullError struct {
	// Service is the stack-scoped service; Message the task's error.
	Service, Message string
	// Registry is the pinned image's registry host, empty for an image deployed by tag.
	Registry string
}

func (e *PullError) Error() string {
	if e.Registry != "" {
		return fmt.Sprintf("service %s: pull from registry %s failed: %s", e.Service, e.Registry, e.Message)
	}
	return fmt.Sprintf("service %s: %s", e.Service, e.Message)
}

// pullErrorOf returns a *PullError for a task error that says the image is missing, nil
// otherwise.
func pullErrorOf(service, taskErr string) *PullError {
	const marker = "no such image:"
	i := strings.Index(strings.ToLower(taskErr), marker)
	if i < 0 {
		return nil
	}
	pe := &PullError{Service: service, Message: taskErr}
	ref := strings.TrimSpace(taskErr[i+len(marker):])
	if named, err := reference.ParseNormalizedNamed(ref); err == nil {
		if _, ok := named.(reference.Digested); ok {
			pe.Registry = reference.Domain(named)
		}
	}
	return pe
}

// IsImageNotFound reports whether err holds a *RegistryError saying a tag does not exist: the
// recipe's fault.
func IsImageNotFound(err error) bool {
	var re *RegistryError
	return errors.As(err, &re) && re.Kind == RegistryNotFound
}

// classifyRegistry types an error of the distribution endpoint. The Engine passes the
// registry's answer on as text inside a status code of its own (404 for manifest unknown, 401
// for refused credentials, 500 for everything else), so both are read.
func classifyRegistry(registry, image string, err error) error {
	if err == nil {
		return nil
	}
	kind := RegistryKindOf(err.Error())
	switch {
	case errdefs.IsNotFound(err) && kind == RegistryUnreachable:
		kind = RegistryNotFound
	case errdefs.IsUnauthorized(err) || errdefs.IsPermissionDenied(err):
		kind = RegistryAuthFailed
	}
	return &RegistryError{Kind: kind, Registry: registry, Image: image, Err: err}
}

// registryPatterns map what the Engine says to a kind, first match wins. The texts come from
// docker/distribution's error codes and the Engine's transport errors.
var registryPatterns = []struct {
	kind RegistryKind
	text []string
}{
	{RegistryRateLimited, []string{"toomanyrequests", "too many requests"}},
	{RegistryAuthFailed, []string{"unauthorized", "authentication required", "no basic auth credentials", "denied", "403 forbidden"}},
	{RegistryNotFound, []string{"manifest unknown", "name unknown"}},
	{RegistryTimeout, []string{"timeout", "deadline exceeded", "timed out"}},
	{RegistryServerError, []string{"500 internal", "502 bad gateway", "503 service", "504 gateway", "unexpected http status: 5", "status code 5"}},
}

// RegistryKindOf types the text of a registry failure; what matches nothing (connection
// refused, no such host, reset) is RegistryUnreachable.
func RegistryKindOf(text string) RegistryKind {
	t := strings.ToLower(text)
	for _, p := range registryPatterns {
		for _, s := range p.text {
			if strings.Contains(t, s) {
				return p.kind
			}
		}
	}
	return RegistryUnreachable
}
