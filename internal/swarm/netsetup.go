package swarm

import (
	"fmt"
	"strings"
)

// NetworkSetupError says a service's tasks failed because their node could not attach them to
// an overlay network: the Engine's own state, not the recipe. Seen on a busy engine that
// removes and creates overlay networks quickly: "network sandbox join failed: subnet sandbox
// join failed for "10.1.140.0/24": error creating vxlan interface: file exists" (the kernel
// still holds the VXLAN device of a removed network). A run that meets it is Aborted, as for
// any engine failure (IsEngineFailure).
type NetworkSetupError struct {
	// Service is the stack-scoped service; Failures how many of its tasks failed; Message the
	// newest task error, written by the Engine.
	Service  string
	Failures int
	Message  string
}

func (e *NetworkSetupError) Error() string {
	return fmt.Sprintf("service %s: %d tasks failed: the engine could not attach them to their network: %s", e.Service, e.Failures, e.Message)
}

// networkSetupMarker begins the error the Engine gives a task whose network attachment failed
// on its node (libnetwork's sandbox join), before the container is created: no recipe code
// has run, so no recipe writes it.
const networkSetupMarker = "network sandbox join failed"

// networkSetupErrorOf returns a *NetworkSetupError when every recent task error of svc is a
// failed network attachment, nil otherwise: one error of another kind among them may be the
// recipe's, and then the failure is judged as the recipe's.
func networkSetupErrorOf(svc ServiceState) *NetworkSetupError {
	if len(svc.Errors) == 0 {
		return nil
	}
	for _, e := range svc.Errors {
		if !strings.Contains(strings.ToLower(e), networkSetupMarker) {
			return nil
		}
	}
	return &NetworkSetupError{Service: svc.Name, Failures: svc.Failures, Message: svc.Errors[0]}
}
