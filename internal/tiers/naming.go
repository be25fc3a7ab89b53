package tiers

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxStackName bounds a throw-away stack's name. Swarm names a service <stack>_<service> and
// wants a DNS label (at most 63 characters), so the stack keeps room for a service name of 20.
const maxStackName = 42

// runIDStackLen is how much of a run id a stack name carries; longer ids are hashed to it.
const runIDStackLen = 12

// NewRunID returns a fresh run id: 12 lowercase hex characters, short enough to appear whole in
// stack names.
func NewRunID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("read random bytes: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// StackName returns the name of a run's throw-away stack: ccci_<recipe>_<run>, plus _<role> for
// a second stack of the same run (role "up" for the upgrade tier). The result has only
// lowercase letters, digits and underscores, starts with a letter and is at most 42 characters,
// so every service name <stack>_<service> of a recipe with service names of up to 20 characters
// stays a valid DNS label. A run id longer than 12 characters is replaced by a hash of it.
func StackName(recipe, runID, role string) string {
	run := sanitize(runID)
	if len(run) > runIDStackLen || run == "" {
		sum := sha256.Sum256([]byte(runID))
		run = hex.EncodeToString(sum[:])[:8]
	}
	suffix := "_" + run
	if role != "" {
		suffix += "_" + sanitize(role)
	}
	r := sanitize(recipe)
	if room := maxStackName - len("ccci_") - len(suffix); len(r) > room {
		r = strings.TrimRight(r[:room], "_")
	}
	if r == "" {
		return "ccci" + suffix
	}
	return "ccci_" + r + suffix
}

// sanitize lowercases s and maps every character outside [a-z0-9] to an underscore, collapsing
// runs of them, because Swarm object names derived from the stack name must be DNS-label safe.
func sanitize(s string) string {
	var b strings.Builder
	underscore := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			underscore = false
		case !underscore && b.Len() > 0:
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.TrimRight(b.String(), "_")
}
