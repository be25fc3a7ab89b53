package controllers

import (
	"context"
	"errors"
	"fmt"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
)

// errNotFound marks a WarmCanonical that no file defines.
var errNotFound = errors.New("not defined in any resource file")

// loadWarmCanonical is step 1: the defaulted, valid object, or an error. An invalid object is
// Stalled until a person edits its file.
func (r *WarmCanonicalReconciler) loadWarmCanonical(name string) (*v1.WarmCanonical, error) {
	return r.getWarmCanonical(name)
}

func (r *WarmCanonicalReconciler) getWarmCanonical(name string) (*v1.WarmCanonical, error) {
	obj, err := r.Objects.Get(v1.KindWarmCanonical, name)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("WarmCanonical %s is %w", name, errNotFound)
	}
	wc, ok := obj.(*v1.WarmCanonical)
	if !ok {
		return nil, fmt.Errorf("object %s is a %T", name, obj)
	}
	wc.Default()
	if errs := wc.Validate(); len(errs) > 0 {
		return nil, invalid(v1.Key{Kind: v1.KindWarmCanonical, Name: name}, errs)
	}
	return wc, nil
}

// loadRecipeTest loads the RecipeTest that gates promotions; a missing or invalid one leaves
// the object Ready=False until the RecipeTest appears (its reconcile wakes this one).
func (r *WarmCanonicalReconciler) loadRecipeTest(wc *v1.WarmCanonical) (*v1.RecipeTest, error) {
	obj, err := r.Objects.Get(v1.KindRecipeTest, wc.Spec.RecipeTest)
	if err == nil && obj == nil {
		// Stalled until a person adds the RecipeTest; its reconcile wakes this object.
		return nil, blocked(stalledBy(v1.ReasonRecipeTestNotFound, fmt.Errorf("WarmCanonical %q: spec.recipeTest %q names no RecipeTest (valid: the name of a RecipeTest in the resources directory)", wc.Metadata.Name, wc.Spec.RecipeTest)))
	}
	if err != nil {
		return nil, blocked(because(v1.ReasonInvalidSpec, fmt.Errorf("RecipeTest %q is invalid: %w", wc.Spec.RecipeTest, err)))
	}
	rt, ok := obj.(*v1.RecipeTest)
	if !ok {
		return nil, fmt.Errorf("object %s is a %T", wc.Spec.RecipeTest, obj)
	}
	rt.Default()
	return rt, nil
}

// resolve is step 3: latest becomes the newest tag; an exact tag must exist. It returns the
// version and the commit its tag names now, which the gate pins.
func (r *WarmCanonicalReconciler) resolve(ctx context.Context, wc *v1.WarmCanonical, rt *v1.RecipeTest, st *v1.WarmCanonicalStatus) (version, commit string, err error) {
	src, err := r.Recipes.Source(ctx, rt)
	if err == nil {
		var vs recipe.Versions
		if vs, err = src.Versions(ctx); err == nil {
			if version, err = r.pick(wc, rt, vs, st); err != nil {
				return "", "", err
			}
			if commit, err = src.Resolve(ctx, version, 0); err == nil {
				return version, commit, nil
			}
		}
	}
	return "", "", because(v1.ReasonSourceUnavailable, fmt.Errorf("read versions of recipe %s (%s): %w", rt.Spec.Recipe, rt.Spec.Source.Git, err))
}

func (r *WarmCanonicalReconciler) pick(wc *v1.WarmCanonical, rt *v1.RecipeTest, vs recipe.Versions, st *v1.WarmCanonicalStatus) (string, error) {
	if wc.Spec.Version == v1.VersionLatest {
		if v, ok := vs.Latest(); ok {
			st.DesiredVersion = v.Tag
			return v.Tag, nil
		}
		return "", because(v1.ReasonVersionNotFound, fmt.Errorf("WarmCanonical %q: spec.version: %w", wc.Metadata.Name,
			&recipe.VersionNotFoundError{Recipe: rt.Spec.Recipe, Tag: v1.VersionLatest}))
	}
	v, err := vs.Find(wc.Spec.Version)
	if err != nil {
		return "", because(v1.ReasonVersionNotFound, fmt.Errorf("WarmCanonical %q: spec.version: %w", wc.Metadata.Name, err))
	}
	st.DesiredVersion = v.Tag
	return v.Tag, nil
}

// gate reads the run history of the RecipeTest for the desired version.
func (r *WarmCanonicalReconciler) gate(ctx context.Context, wc *v1.WarmCanonical, rt *v1.RecipeTest, desired, commit string, st v1.WarmCanonicalStatus) (Gate, error) {
	runs, err := LoadRuns(r.Store, rt.Metadata.Name)
	if err != nil {
		return Gate{}, err
	}
	return GateFor(GateInput{Runs: runs, Version: desired, Commit: commit, SpecHash: rt.SpecHash(),
		WaitingSince: waitingSince(st, desired), Active: r.Runs.Active, Now: r.now(),
		Images: r.currentImages(ctx, runs, rt, desired, commit), Pinned: wc.Spec.Images == v1.ImagesPinned}), nil
}
