package server

import (
	"context"
	"net/http"
)

// PlanLine is what the next reconcile of one WarmCanonical would do, as plan prints it.
type PlanLine struct {
	// Name is the WarmCanonical.
	Name string `json:"name"`
	// Deployed and Desired are the versions seen while planning.
	Deployed string `json:"deployed,omitempty"`
	Desired  string `json:"desired,omitempty"`
	// Action is SKIP, CONVERGED, TEST, WAIT, PROMOTE, HELD, FAILED, ROLLBACK or UNDEPLOY;
	// empty when the object cannot be planned (Error says why).
	Action string `json:"action,omitempty"`
	// Plan is the action with its versions: "PROMOTE 1.0.0+1.0→1.1.0+1.1".
	Plan string `json:"plan,omitempty"`
	// Reason is the Ready reason the action leads to.
	Reason string `json:"reason,omitempty"`
	// Message explains the decision.
	Message string `json:"message,omitempty"`
	// DependsOn is the object's spec.dependsOn.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Error is set when the object could not be planned (invalid, missing RecipeTest,
	// unknown version, Docker unreachable).
	Error string `json:"error,omitempty"`
}

// Planner plans reconciles without carrying them out.
type Planner interface {
	// Plan plans the named WarmCanonicals, or all of them when names is empty;
	// ErrNotFound for a name no resource file defines.
	Plan(ctx context.Context, names []string) ([]PlanLine, error)
}

// HandlePlan serves GET /api/v1/plan[?name=NAME...]: what the next reconciles would do.
func (s *Server) HandlePlan(p Planner) {
	s.mux.HandleFunc("GET /api/v1/plan", func(w http.ResponseWriter, r *http.Request) {
		lines, err := p.Plan(r.Context(), r.URL.Query()["name"])
		if err != nil {
			writeStateError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, nonNil(lines))
	})
}
