package controllers

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// KindPromotions is the store kind of the promotion history of each WarmCanonical.
const KindPromotions = "Promotions"

// maxPromotions bounds the promotion history of one WarmCanonical.
const maxPromotions = 20

// PromotionState is where a promotion stands.
type PromotionState string

// The states of a promotion.
const (
	// PromotionStarted: the deploy was about to be made; a crash may have interrupted it.
	PromotionStarted PromotionState = "Started"
	// PromotionSucceeded: the stack converged at the new version.
	PromotionSucceeded PromotionState = "Succeeded"
	// PromotionFailed: the stack did not converge.
	PromotionFailed PromotionState = "Failed"
)

// Promotion is one entry of a WarmCanonical's promotion history.
type Promotion struct {
	// From and To are the versions.
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// State is where it stands.
	State PromotionState `json:"state"`
	// StartedAt and FinishedAt bound it.
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// Promotions returns the promotion history of a WarmCanonical, newest first.
func Promotions(s StatusStore, name string) ([]Promotion, error) {
	var ps []Promotion
	if _, err := s.Get(KindPromotions, name, &ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// recordPromotion adds an entry, or updates the newest one when it is the same promotion
// resumed after a crash, so one promotion is one entry.
func (r *WarmCanonicalReconciler) recordPromotion(name string, p Plan, state PromotionState) error {
	ps, err := Promotions(r.Store, name)
	if err != nil {
		return fmt.Errorf("read promotion history of %q: %w", name, err)
	}
	now := r.now()
	if len(ps) > 0 && ps[0].To == p.To && ps[0].State == PromotionStarted {
		if state != PromotionStarted {
			ps[0].State, ps[0].FinishedAt = state, &now
		}
	} else {
		e := Promotion{From: p.From, To: p.To, State: state, StartedAt: now}
		if state != PromotionStarted {
			e.FinishedAt = &now
		}
		ps = append([]Promotion{e}, ps...)
	}
	if len(ps) > maxPromotions {
		ps = ps[:maxPromotions]
	}
	if err := r.Store.Put(KindPromotions, name, ps); err != nil {
		return fmt.Errorf("write promotion history of %q: %w", name, err)
	}
	return nil
}

func (r *WarmCanonicalReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// LoadRuns returns the run history of a RecipeTest, newest first. Unreadable records have been
// moved aside by the store and are left out.
func LoadRuns(s StatusStore, recipeTest string) ([]v1.Run, error) {
	raws, err := s.Runs(recipeTest)
	runs := make([]v1.Run, 0, len(raws))
	for _, raw := range raws {
		var run v1.Run
		if json.Unmarshal(raw, &run) == nil {
			runs = append(runs, run)
		}
	}
	if err != nil && len(raws) == 0 {
		return nil, fmt.Errorf("read runs of RecipeTest %q: %w", recipeTest, err)
	}
	return runs, nil
}

// KindKnownGood is the store kind of the configuration each WarmCanonical's known-good version
// was deployed with.
const KindKnownGood = "KnownGood"

// KnownGood is how the known-good version was deployed: a rollback deploys it back with the
// env it converged with, not with the spec that just failed (the new env may be the cause).
// It is also the record of the inputs the running version converged with: a spec.env that
// differs from Env while Version runs is an edit to APPLY (see Decide).
type KnownGood struct {
	// Version is the known-good version.
	Version string `json:"version"`
	// Env is the WarmCanonical's spec.env it converged with.
	Env v1.Env `json:"env,omitempty"`
}

// recordKnownGood remembers the configuration of a version that converged.
func (r *WarmCanonicalReconciler) recordKnownGood(name, version string, env map[string]string) error {
	if err := r.Store.Put(KindKnownGood, name, KnownGood{Version: version, Env: env}); err != nil {
		return fmt.Errorf("write known-good configuration of %q: %w", name, err)
	}
	return nil
}

// knownGood returns the known-good record of name and whether there is one.
func (r *WarmCanonicalReconciler) knownGood(name string) (KnownGood, bool, error) {
	var kg KnownGood
	found, err := r.Store.Get(KindKnownGood, name, &kg)
	if err != nil {
		return KnownGood{}, false, fmt.Errorf("read known-good configuration of %q: %w", name, err)
	}
	return kg, found, nil
}

// ChangedEnv returns, sorted, the spec.env keys whose value differs from the env version last
// converged with (added, changed or removed since), and whether that env is recorded for
// version at all. Only keys are returned: env values may be credentials, and describe prints
// what this returns.
func ChangedEnv(s StatusStore, name, version string, env map[string]string) (keys []string, recorded bool, err error) {
	var kg KnownGood
	found, err := s.Get(KindKnownGood, name, &kg)
	if err != nil {
		return nil, false, fmt.Errorf("read known-good configuration of %q: %w", name, err)
	}
	if !found || version == "" || kg.Version != version {
		return nil, false, nil
	}
	for k, v := range env {
		if old, ok := kg.Env[k]; !ok || old != v {
			keys = append(keys, k)
		}
	}
	for k := range kg.Env {
		if _, ok := env[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, true, nil
}

// envChanged reports whether version, running now, last converged with another spec.env than
// env. Without a record of version there is nothing to compare: the app is taken as it runs,
// so a stack deployed by hand stays converged with no write (step 5).
func envChanged(rec KnownGood, recorded bool, version string, env map[string]string) bool {
	return recorded && version != "" && rec.Version == version && !maps.Equal(rec.Env, env)
}

// knownGoodEnv returns the env the known-good version converged with, or fallback when it is
// not recorded.
func (r *WarmCanonicalReconciler) knownGoodEnv(name, version string, fallback map[string]string) map[string]string {
	var kg KnownGood
	if found, err := r.Store.Get(KindKnownGood, name, &kg); err == nil && found && kg.Version == version {
		return kg.Env
	}
	return fallback
}
