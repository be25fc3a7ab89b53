package notify

import (
	"encoding/json"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// EventType says what happened.
type EventType string

// The event types.
const (
	// EventTestFailed: the desired version failed its tests; the warm app stays where it was.
	EventTestFailed EventType = "TestFailed"
	// EventPromoted: the warm app was promoted to a new version.
	EventPromoted EventType = "Promoted"
	// EventHeld: a MAJOR bump waits for spec.allowMajor.
	EventHeld EventType = "Held"
	// EventRolledBack: a promotion failed to converge and the known-good version was deployed back.
	EventRolledBack EventType = "RolledBack"
	// EventPromotionFailed: a promotion failed and could not be rolled back.
	EventPromotionFailed EventType = "PromotionFailed"
	// EventRecovered: an object that was failing or held is Ready again.
	EventRecovered EventType = "Recovered"
	// EventDegraded: the warm app runs its known-good version but tasks fail or are unhealthy.
	EventDegraded EventType = "Degraded"
	// EventStalled: a stateful task of the warm app runs away from its data (DataNodeMoved);
	// nothing is deployed until a person acts.
	EventStalled EventType = "Stalled"
	// EventDrifted: the live services differ from the applied spec (a hand edit); sent once
	// per drift.
	EventDrifted EventType = "Drifted"
	// EventDriftCorrected: spec.drift: correct applied the recorded spec again.
	EventDriftCorrected EventType = "DriftCorrected"
)

// Event is the JSON body posted to the webhook.
type Event struct {
	// Type says what happened.
	Type EventType `json:"type"`
	// Kind and Name are the object.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Version is the version concerned: the one that failed, was promoted or is held.
	Version string `json:"version,omitempty"`
	// Deployed and KnownGood are the warm app's versions after the event.
	Deployed  string `json:"deployed,omitempty"`
	KnownGood string `json:"knownGood,omitempty"`
	// Reason and Message are the Ready condition's.
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// Time is when the condition changed.
	Time time.Time `json:"time"`
	// URL is the dashboard page of the recipe under --public-url: the warm app beside its
	// RecipeTest's runs. Absent without --public-url.
	URL string `json:"url,omitempty"`
	// RunURL is the dashboard page of the test run the event reports (the run that passed for
	// Promoted, the run that failed for TestFailed). Absent without --public-url, for other
	// events, and when the run is not known.
	RunURL string `json:"runURL,omitempty"`
}

// key identifies an event for de-duplication: one per object, type, reason and version; a
// drift event once per drift (the time the condition turned).
func (e Event) key() string {
	if e.drift() {
		return string(e.Type) + "/" + e.Time.UTC().Format(time.RFC3339Nano)
	}
	return string(e.Type) + "/" + e.Reason + "/" + e.Version
}

// drift reports whether e is about the Drifted condition rather than Ready.
func (e Event) drift() bool { return e.Type == EventDrifted || e.Type == EventDriftCorrected }

// failing reports whether the event leaves the object in a state a later Ready recovers from.
func (e Event) failing() bool { return e.Type != EventPromoted && e.Type != EventRecovered }

// conditionEvent reads a WarmCanonical status and its condition t, and starts the event about
// it (type and version left to the caller); false when either is missing.
func conditionEvent(name string, data []byte, t string) (v1.WarmCanonicalStatus, v1.Condition, Event, bool) {
	var st v1.WarmCanonicalStatus
	if json.Unmarshal(data, &st) != nil {
		return st, v1.Condition{}, Event{}, false
	}
	c, ok := st.Conditions.Get(t)
	e := Event{Kind: v1.KindWarmCanonical, Name: name, Deployed: st.DeployedVersion, KnownGood: st.KnownGoodVersion,
		Reason: c.Reason, Message: c.Message, Time: c.LastTransitionTime}
	return st, c, e, ok
}

// driftEventFor returns the drift event a WarmCanonical status announces, if any: Drifted
// turning True, or False again by a correction after one was sent (last).
func driftEventFor(name string, data []byte, last string) (Event, bool) {
	st, d, e, ok := conditionEvent(name, data, v1.ConditionDrifted)
	if !ok {
		return Event{}, false
	}
	e.Version = st.DeployedVersion
	switch {
	case d.Status == v1.ConditionTrue:
		e.Type = EventDrifted
	case strings.HasPrefix(last, string(EventDrifted)+"/") && strings.HasPrefix(d.Message, "corrected"):
		e.Type = EventDriftCorrected
	default:
		return Event{}, false
	}
	return e, true
}

// eventFor returns the event a WarmCanonical status announces, if any. wasFailing says
// whether the last event sent for the object was a failure or a hold, so that Ready=True
// afterwards is a recovery.
func eventFor(name string, data []byte, wasFailing bool) (Event, bool) {
	st, ready, e, ok := conditionEvent(name, data, v1.ConditionReady)
	if !ok {
		return Event{}, false
	}
	rec, _ := st.Conditions.Get(v1.ConditionReconciling)
	switch {
	case ready.Status == v1.ConditionTrue && ready.Reason == v1.ReasonPromoted:
		e.Type, e.Version = EventPromoted, st.DeployedVersion
	case ready.Status == v1.ConditionTrue && wasFailing:
		e.Type, e.Version = EventRecovered, st.DeployedVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonTestsFailed:
		e.Type, e.Version = EventTestFailed, st.LastAttemptedVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonDegraded:
		e.Type, e.Version = EventDegraded, st.DeployedVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonDataNodeMoved:
		e.Type, e.Version = EventStalled, st.DeployedVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonMajorUpgradeHeld:
		e.Type, e.Version = EventHeld, st.DesiredVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonPromotionFailed && rec.Reason == v1.ReasonRolledBack:
		e.Type, e.Version = EventRolledBack, st.LastAttemptedVersion
	case ready.Status == v1.ConditionFalse && ready.Reason == v1.ReasonPromotionFailed && rec.Status != v1.ConditionTrue:
		e.Type, e.Version = EventPromotionFailed, st.LastAttemptedVersion
	default:
		return Event{}, false
	}
	return e, true
}
