package v1

import "time"

// Condition types.
const (
	// ConditionReady is True when the object is converged: the warm app runs its desired
	// version, or the recipe's last run passed.
	ConditionReady = "Ready"
	// ConditionReconciling is True while work is in progress, e.g. a test run or a promotion.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a human: an invalid spec, a missing
	// RecipeTest. Nothing is retried until the spec changes.
	ConditionStalled = "Stalled"
	// ConditionDrifted is True when the live stack differs from what was last applied (a hand
	// edit); see WarmCanonicalSpec.Drift.
	ConditionDrifted = "Drifted"
	// ConditionLastGoodSpec is True while the object is reconciled with the last valid spec
	// read from its file, because the file is unreadable, invalid or briefly absent; the
	// message names the file and the error.
	ConditionLastGoodSpec = "LastGoodSpec"
)

// ConditionStatus is the status of a condition.
type ConditionStatus string

// The statuses of a condition.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is one aspect of an object's state.
type Condition struct {
	// Type is Ready, Reconciling or Stalled.
	Type string `json:"type"`
	// Status is True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// Reason is a CamelCase machine-readable cause, one of the Reason constants.
	Reason string `json:"reason"`
	// Message explains the condition to a human.
	Message string `json:"message,omitempty"`
	// LastTransitionTime is when Status last changed.
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// Conditions is the condition list of a status, at most one per type.
type Conditions []Condition

// Get returns the condition of type t.
func (cs Conditions) Get(t string) (Condition, bool) {
	for _, c := range cs {
		if c.Type == t {
			return c, true
		}
	}
	return Condition{}, false
}

// IsTrue reports whether the condition of type t exists and has status True.
func (cs Conditions) IsTrue(t string) bool {
	c, ok := cs.Get(t)
	return ok && c.Status == ConditionTrue
}

// Set adds or updates the condition of c.Type. LastTransitionTime becomes now when the status
// changes (or the condition is new) and is kept otherwise, so that it says since when the
// status holds; reason and message are always updated. It reports whether anything changed.
func (cs *Conditions) Set(c Condition, now time.Time) bool {
	for i, old := range *cs {
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		} else {
			c.LastTransitionTime = now
		}
		(*cs)[i] = c
		return old != c
	}
	c.LastTransitionTime = now
	*cs = append(*cs, c)
	return true
}

// Remove deletes the condition of type t and reports whether it existed.
func (cs *Conditions) Remove(t string) bool {
	for i, c := range *cs {
		if c.Type == t {
			*cs = append((*cs)[:i], (*cs)[i+1:]...)
			return true
		}
	}
	return false
}
