package controllers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/server"
)

// View is the read side of the resource files and the state directory that the daemon's API
// and dashboard show (server.State). It reads only: no lock, no write.
type View struct {
	// Objects is the desired state. Required.
	Objects Objects
	// Store holds status, runs and logs. Required.
	Store StatusStore
}

var _ server.State = (*View)(nil)

// WarmCanonicals returns every WarmCanonical with its status and any operator suspension.
func (v *View) WarmCanonicals(_ context.Context) ([]server.WarmCanonicalView, error) {
	names, err := v.Objects.List(v1.KindWarmCanonical)
	if err != nil {
		return nil, err
	}
	out := make([]server.WarmCanonicalView, 0, len(names))
	for _, n := range names {
		wv := server.WarmCanonicalView{Name: n}
		obj, err := v.Objects.Get(v1.KindWarmCanonical, n)
		if wc, ok := obj.(*v1.WarmCanonical); ok && err == nil {
			wc.Default()
			wv.Spec = &wc.Spec
		} else if err != nil {
			wv.Invalid = err.Error()
		}
		if _, err := v.Store.Get(v1.KindWarmCanonical, n, &wv.Status); err != nil {
			return nil, err
		}
		if sp, err := SuspensionOf(v.Store, n); err == nil && sp != nil {
			wv.Suspension = &server.SuspensionView{Reason: sp.Reason, By: sp.By, Since: sp.Since}
		}
		out = append(out, wv)
	}
	return out, nil
}

// RecipeTests returns every RecipeTest with its status and run history.
func (v *View) RecipeTests(_ context.Context) ([]server.RecipeTestView, error) {
	names, err := v.Objects.List(v1.KindRecipeTest)
	if err != nil {
		return nil, err
	}
	out := make([]server.RecipeTestView, 0, len(names))
	for _, n := range names {
		rv := server.RecipeTestView{Name: n}
		obj, err := v.Objects.Get(v1.KindRecipeTest, n)
		if rt, ok := obj.(*v1.RecipeTest); ok && err == nil {
			rt.Default()
			rv.Spec = &rt.Spec
		} else if err != nil {
			rv.Invalid = err.Error()
		}
		st, err := RecipeTestStatusOf(v.Store, n)
		if err != nil && st.Runs == nil {
			return nil, err
		}
		rv.Status = st
		out = append(out, rv)
	}
	return out, nil
}

// Run finds run id among the runs of every RecipeTest.
func (v *View) Run(_ context.Context, id string) (string, v1.Run, error) {
	names, err := v.Objects.List(v1.KindRecipeTest)
	if err != nil {
		return "", v1.Run{}, err
	}
	for _, n := range names {
		runs, err := LoadRuns(v.Store, n)
		if err != nil {
			continue
		}
		for _, r := range runs {
			if r.ID == id {
				return n, r, nil
			}
		}
	}
	return "", v1.Run{}, fmt.Errorf("run %q: %w", id, server.ErrNotFound)
}

// Log returns the log of one tier of run id.
func (v *View) Log(ctx context.Context, id string, tier v1.TierName) ([]byte, error) {
	rt, run, err := v.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, t := range run.Tiers {
		if t.Name != tier {
			continue
		}
		if t.LogFile == "" {
			return nil, fmt.Errorf("run %s tier %s has no log: %w", id, tier, server.ErrNotFound)
		}
		dir, err := v.Store.RunDir(rt, id)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, filepath.Clean(t.LogFile))
		// A hand-edited record must not make the API read outside the run directory.
		if rel, err := filepath.Rel(dir, path); err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("run %s tier %s: log file %q is outside the run directory", id, tier, t.LogFile)
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("run %s tier %s: log %s: %w", id, tier, t.LogFile, server.ErrNotFound)
		}
		return data, err
	}
	return nil, fmt.Errorf("run %s has no tier %q: %w", id, tier, server.ErrNotFound)
}
