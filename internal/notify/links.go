package notify

import (
	"net/url"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Subject is what an event is about beyond the WarmCanonical: the RecipeTest that gates it and
// the test run the event reports, for the links.
type Subject struct {
	// RecipeTest is the RecipeTest that gates the WarmCanonical.
	RecipeTest string
	// Run is the id of the run the event reports; empty when it reports none or none is known.
	Run string
}

// Lookup names an event's subject. verdict is the verdict of the run the event reports: Passed
// for a promotion, Failed for failed tests, empty for an event about no run.
type Lookup func(warm, version string, verdict v1.Verdict) Subject

// reportedVerdict is the verdict of the run an event reports: the run that gated a promotion,
// or the run whose failure holds the version back. Other events report no run.
func reportedVerdict(t EventType) v1.Verdict {
	switch t {
	case EventPromoted:
		return v1.VerdictPassed
	case EventTestFailed:
		return v1.VerdictFailed
	}
	return ""
}

// links sets the event's dashboard links under base: the recipe's page (the warm app, its
// RecipeTest and its runs) and the reported run's page. Without a base, e has no links: an
// address the receiver cannot reach is worse than none.
func links(base *url.URL, lookup Lookup, e Event) Event {
	if base == nil {
		return e
	}
	s := Subject{RecipeTest: e.Name}
	if lookup != nil {
		s = lookup(e.Name, e.Version, reportedVerdict(e.Type))
	}
	if s.RecipeTest != "" {
		e.URL = base.JoinPath("recipes", s.RecipeTest).String()
	}
	if s.Run != "" {
		e.RunURL = base.JoinPath("runs", s.Run).String()
	}
	return e
}
