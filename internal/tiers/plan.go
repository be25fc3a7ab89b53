package tiers

import (
	"fmt"
	"slices"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Action says what a run does with a planned tier.
type Action string

// The actions of a planned tier.
const (
	// ActionRun runs the tier.
	ActionRun Action = "Run"
	// ActionNotApplicable reports the tier NotApplicable without running it.
	ActionNotApplicable Action = "NotApplicable"
	// ActionSkipped reports the tier Skipped without running it.
	ActionSkipped Action = "Skipped"
	// ActionFail reports the tier Failed without running it (a spec that cannot work for this
	// recipe, such as an upgrade base that is not a tag).
	ActionFail Action = "Fail"
)

// StackRole names the throw-away stacks of a run.
type StackRole string

// The stacks of a run.
const (
	// StackNone is for tiers that deploy nothing (lint).
	StackNone StackRole = ""
	// StackMain is the candidate's stack: deployed by install and reused by custom, backup and
	// restore (which destroys and redeploys it).
	StackMain StackRole = "main"
	// StackUpgrade is deployed at the base version and upgraded to the candidate.
	StackUpgrade StackRole = "up"
)

// Facts are what the planner knows about the recipe at the candidate version.
type Facts struct {
	// BackupCapable is true when the backup plan of the candidate, computed from its loaded and
	// interpolated stack, is enabled: a service's backupbot.backup is true.
	BackupCapable bool
	// Files says, for each when.fileExists path of the tiers, whether the checkout has it.
	Files map[string]bool
	// Base is the upgrade tier's base version; empty when there is none.
	Base string
	// BaseSkip explains an empty Base that makes the upgrade tier Skipped ("no older version").
	BaseSkip string
	// BaseError explains an empty Base that makes the upgrade tier Failed (a from tag that
	// does not exist).
	BaseError string
	// Refused lists what an untrusted ref asks of the host (see hostReach); when there is
	// anything, lint fails with these problems and no other tier runs.
	Refused []string
}

// Step is one tier of a run's plan.
type Step struct {
	// Tier is the tier as the spec gives it.
	Tier v1.Tier
	// Action is what the run does with it.
	Action Action
	// Reason explains an Action other than ActionRun; for an implicit install it says why it
	// was added.
	Reason string
	// Stack is the stack the tier works on.
	Stack StackRole
}

// executionOrder is the order tiers run in, whatever the spec's order: lint needs no stack; install
// deploys the main stack that custom and backup use as it is; restore destroys and redeploys
// it, so it comes after them; upgrade has a stack of its own.
var executionOrder = []v1.TierName{v1.TierLint, v1.TierInstall, v1.TierCustom, v1.TierBackup, v1.TierRestore, v1.TierUpgrade}

// Plan decides, without side effects, what a run does with each tier: the requested tiers in
// execution order (lint, install, custom, backup, restore, upgrade), each to run, or reported
// NotApplicable (named in expectedNA; backup and restore of a recipe without backupbot labels),
// Skipped (a when.fileExists gate whose file is absent; an upgrade with no older version) or
// Failed (an upgrade base that cannot be used), and the stack it works on. Install is added when
// another tier deploys and the spec left it out, because every stack tier stands on the
// candidate's fresh install (an upgrade of a candidate that cannot install says nothing) and a
// verdict needs install to have run. Unknown tier names
// are reported Failed rather than dropped.
func Plan(tiers []v1.Tier, expectedNA []v1.TierName, f Facts) []Step {
	if len(f.Refused) > 0 {
		return refusedPlan(tiers, f.Refused)
	}
	byName := map[v1.TierName]v1.Tier{}
	var unknown []Step
	for _, t := range tiers {
		if !slices.Contains(executionOrder, t.Name) {
			unknown = append(unknown, Step{Tier: t, Action: ActionFail, Reason: fmt.Sprintf("unknown tier %q (valid: %v)", t.Name, executionOrder)})
			continue
		}
		byName[t.Name] = t
	}
	_, hasInstall := byName[v1.TierInstall]
	implicitInstall := false
	if !hasInstall {
		for _, n := range []v1.TierName{v1.TierCustom, v1.TierBackup, v1.TierRestore, v1.TierUpgrade} {
			if _, ok := byName[n]; ok {
				byName[v1.TierInstall] = v1.Tier{Name: v1.TierInstall}
				implicitInstall = true
				break
			}
		}
	}
	var steps []Step
	for _, name := range executionOrder {
		t, ok := byName[name]
		if !ok {
			continue
		}
		s := planTier(t, expectedNA, f)
		if name == v1.TierInstall && implicitInstall && s.Action == ActionRun {
			s.Reason = "added: the other tiers need the candidate installed"
		}
		steps = append(steps, s)
	}
	return append(steps, unknown...)
}

// refusedPlan fails lint (planned or not) with the findings of an untrusted ref and skips every
// other tier: nothing of the ref is deployed.
func refusedPlan(tiers []v1.Tier, refused []string) []Step {
	lint := v1.Tier{Name: v1.TierLint}
	if i := slices.IndexFunc(tiers, func(t v1.Tier) bool { return t.Name == v1.TierLint }); i >= 0 {
		lint = tiers[i]
	}
	steps := []Step{{Tier: lint, Action: ActionFail, Reason: listed("problem", refused)}}
	for _, t := range tiers {
		if t.Name != v1.TierLint {
			steps = append(steps, Step{Tier: t, Action: ActionSkipped, Reason: "untrusted ref refused at lint"})
		}
	}
	return steps
}

func planTier(t v1.Tier, expectedNA []v1.TierName, f Facts) Step {
	s := Step{Tier: t, Action: ActionRun, Stack: stackOf(t.Name)}
	switch {
	case slices.Contains(expectedNA, t.Name):
		s.Action, s.Reason = ActionNotApplicable, "listed in spec.expectedNA"
	case (t.Name == v1.TierBackup || t.Name == v1.TierRestore) && !f.BackupCapable:
		s.Action, s.Reason = ActionNotApplicable, "no service has "+v1.LabelBackup+"=true"
	case t.When != nil && t.When.FileExists != "" && !f.Files[t.When.FileExists]:
		s.Action, s.Reason = ActionSkipped, fmt.Sprintf("gate: file %s absent", t.When.FileExists)
	case t.Name == v1.TierUpgrade && f.BaseError != "":
		s.Action, s.Reason = ActionFail, f.BaseError
	case t.Name == v1.TierUpgrade && f.Base == "":
		s.Action, s.Reason = ActionSkipped, f.BaseSkip
		if s.Reason == "" {
			s.Reason = "no older version"
		}
	case t.Name == v1.TierCustom && len(t.Command) == 0:
		s.Action, s.Reason = ActionFail, "custom tier has no command"
	}
	if s.Action != ActionRun {
		s.Stack = StackNone
	}
	return s
}

func stackOf(name v1.TierName) StackRole {
	switch name {
	case v1.TierInstall, v1.TierCustom, v1.TierBackup, v1.TierRestore:
		return StackMain
	case v1.TierUpgrade:
		return StackUpgrade
	}
	return StackNone
}
