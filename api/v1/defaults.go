package v1

import (
	"strings"
	"time"
)

// Default values that are not derived from the object's name.
const (
	DefaultBranch        = "main"
	DefaultRunTimeout    = 30 * time.Minute
	DefaultInterval      = 10 * time.Minute
	DefaultWarmTimeout   = 15 * time.Minute
	DefaultStackPrefix   = "warm_"
	composeFileSeparator = ":"
)

// DefaultTiers returns the tiers a RecipeTest runs when spec.tiers is empty.
func DefaultTiers() []Tier {
	return []Tier{{Name: TierInstall}, {Name: TierUpgrade, From: FromKnownGood}, {Name: TierBackup}, {Name: TierRestore}}
}

// Default fills every unset optional field with its default, in place. The documented
// "Defaults to" of each field and this method must agree; a test checks it.
func (r *RecipeTest) Default() {
	s := &r.Spec
	if s.Recipe == "" {
		s.Recipe = r.Metadata.Name
	}
	if s.Source.Branch == "" {
		s.Source.Branch = DefaultBranch
	}
	if len(s.ComposeFiles) == 0 {
		// Left empty when spec.env has no COMPOSE_FILE: the recipe's own .env.sample then
		// decides, as abra does, and that can differ between versions (an overlay that
		// appears in a later release).
		s.ComposeFiles = defaultComposeFiles(s.Env)
	}
	if len(s.Tiers) == 0 {
		s.Tiers = DefaultTiers()
	}
	for i := range s.Tiers {
		if s.Tiers[i].Name == TierUpgrade && s.Tiers[i].From == "" {
			s.Tiers[i].From = FromKnownGood
		}
	}
	if s.Timeout.Duration == 0 {
		s.Timeout = Duration{DefaultRunTimeout}
	}
}

// defaultComposeFiles follows abra: COMPOSE_FILE lists the files separated by colons. It
// returns nil when spec.env does not set COMPOSE_FILE, and when the value refers to a variable
// ("$COMPOSE_FILE:compose.x.yml" extends the recipe's own list, which only a checkout of a
// version can say).
func defaultComposeFiles(env map[string]string) []string {
	if strings.Contains(env["COMPOSE_FILE"], "$") {
		return nil
	}
	var files []string
	for _, f := range strings.Split(env["COMPOSE_FILE"], composeFileSeparator) {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	return files
}

// Default fills every unset optional field with its default, in place. The documented
// "Defaults to" of each field and this method must agree; a test checks it.
func (w *WarmCanonical) Default() {
	s := &w.Spec
	if s.RecipeTest == "" {
		s.RecipeTest = w.Metadata.Name
	}
	if s.Version == "" {
		s.Version = VersionLatest
	}
	if s.Stack == "" {
		s.Stack = DefaultStack(w.Metadata.Name)
	}
	if s.Mode == "" {
		s.Mode = ModeLive
	}
	if s.Rollback == nil {
		t := true
		s.Rollback = &t
	}
	if s.Interval.Duration == 0 {
		s.Interval = Duration{DefaultInterval}
	}
	if s.Drift == "" {
		s.Drift = DriftReport
	}
	if s.Images == "" {
		s.Images = ImagesFollow
	}
	if s.Timeout.Duration == 0 {
		s.Timeout = Duration{DefaultWarmTimeout}
	}
}

// DefaultStack returns the default stack name of the WarmCanonical called name. Dashes are
// kept: Swarm accepts them in stack names and abra only rewrites dots.
func DefaultStack(name string) string { return DefaultStackPrefix + name }

// RollbackEnabled returns spec.rollback with its default applied.
func (s WarmCanonicalSpec) RollbackEnabled() bool { return s.Rollback == nil || *s.Rollback }
