package server

import (
	"context"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// State is what the read-only API and the dashboard show: the objects of the resource files
// with their status from the state directory, their runs and the runs' logs. The controllers
// implement it (controllers.View); the server only renders it.
type State interface {
	// WarmCanonicals returns every WarmCanonical of the resource files, sorted by name.
	WarmCanonicals(ctx context.Context) ([]WarmCanonicalView, error)
	// RecipeTests returns every RecipeTest of the resource files with its runs (newest
	// first), sorted by name.
	RecipeTests(ctx context.Context) ([]RecipeTestView, error)
	// Run returns a run by id and the RecipeTest it belongs to; ErrNotFound when no
	// RecipeTest has it.
	Run(ctx context.Context, runID string) (recipeTest string, run v1.Run, err error)
	// Log returns the log of one tier of a run; ErrNotFound for an unknown run, a tier the
	// run did not record, or a tier without a log.
	Log(ctx context.Context, runID string, tier v1.TierName) ([]byte, error)
}

// WarmCanonicalView is a WarmCanonical as the API returns it.
type WarmCanonicalView struct {
	// Name is metadata.name.
	Name string `json:"name"`
	// Spec is the defaulted spec; nil when the resource is invalid.
	Spec *v1.WarmCanonicalSpec `json:"spec,omitempty"`
	// Status is the stored status.
	Status v1.WarmCanonicalStatus `json:"status"`
	// Suspension is the operator's suspension, if any (ccci-controller suspend).
	Suspension *SuspensionView `json:"suspension,omitempty"`
	// Invalid holds the problems of an invalid resource.
	Invalid string `json:"invalid,omitempty"`
}

// SuspensionView is an operator's suspension of a WarmCanonical.
type SuspensionView struct {
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	Since  time.Time `json:"since"`
}

// RecipeTestView is a RecipeTest as the API returns it.
type RecipeTestView struct {
	// Name is metadata.name.
	Name string `json:"name"`
	// Spec is the defaulted spec; nil when the resource is invalid.
	Spec *v1.RecipeTestSpec `json:"spec,omitempty"`
	// Status is the stored status with the run history, newest first.
	Status v1.RecipeTestStatus `json:"status"`
	// Invalid holds the problems of an invalid resource.
	Invalid string `json:"invalid,omitempty"`
}

// Suspender suspends and resumes WarmCanonicals for the daemon's API.
type Suspender interface {
	// Suspend records the operator's suspension of name; ErrNotFound for an unknown object.
	Suspend(ctx context.Context, name, reason, by string) error
	// Resume lifts it and reports whether there was one; ErrNotFound for an unknown object.
	Resume(ctx context.Context, name string) (bool, error)
}
