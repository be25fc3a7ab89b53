package tiers

import (
	"fmt"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
)

// ChooseBase picks the version the upgrade tier starts from, as Facts.Base, BaseSkip and
// BaseError. from is the tier's from: knownGood (or empty) uses knownGood — the warm app's
// last known-good version — when it is a tag older than the candidate, else falls back to
// previous; previous is the newest tag strictly older than the candidate; anything else is an
// exact tag, which must exist and, when it equals the candidate, is replaced by the newest
// older tag, because an upgrade to the same version is a no-op. A candidate that is not a tag
// (a branch or commit) counts as newer than every tag.
func ChooseBase(from, knownGood, candidate string, versions recipe.Versions) Facts {
	cand, candErr := recipe.ParseVersion(candidate)
	isTag := candErr == nil
	older := func(v recipe.Version) bool { return !isTag || recipe.Compare(v, cand) < 0 }
	previous := func() Facts {
		prev, ok := versions.Latest()
		if isTag {
			prev, ok = versions.Previous(cand)
		}
		if !ok {
			return Facts{BaseSkip: "no older version"}
		}
		return Facts{Base: prev.Tag}
	}
	switch from {
	case "", v1.FromKnownGood:
		if kg, err := versions.Find(knownGood); knownGood != "" && err == nil && older(kg) {
			return Facts{Base: kg.Tag}
		}
		return previous()
	case v1.FromPrevious:
		return previous()
	}
	v, err := versions.Find(from)
	if err != nil {
		newest := "none"
		if l, ok := versions.Latest(); ok {
			newest = l.Tag
		}
		return Facts{BaseError: fmt.Sprintf("upgrade from %q: not a tag of the recipe (newest: %s)", from, newest)}
	}
	if isTag && recipe.Compare(v, cand) == 0 {
		return previous()
	}
	if !older(v) {
		return Facts{BaseError: fmt.Sprintf("upgrade from %q: not older than the candidate %s", from, candidate)}
	}
	return Facts{Base: v.Tag}
}
