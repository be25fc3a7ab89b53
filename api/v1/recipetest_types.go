package v1

import "time"

// RecipeTest says how a Co-op Cloud recipe is tested: where its source is, which compose files
// and environment a test app gets, and which test tiers run against a candidate version on
// throw-away stacks.
type RecipeTest struct {
	TypeMeta `json:",inline"`
	// Metadata names the object. Required.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired behaviour. Required.
	Spec RecipeTestSpec `json:"spec"`
	// Status is the observed state. It lives in the state directory, never in a resource file.
	Status RecipeTestStatus `json:"status,omitzero"`
}

// RecipeTestSpec is the desired behaviour of a RecipeTest.
type RecipeTestSpec struct {
	// Recipe is the name of the Co-op Cloud recipe under test. Optional. Defaults to
	// `<metadata.name>`.
	Recipe string `json:"recipe,omitempty"`
	// Source says where the recipe's git repository is. Required.
	Source Source `json:"source"`
	// ComposeFiles are the compose files of a test app, relative to the recipe root, in the
	// order they are merged. Optional. When empty, the colon-separated COMPOSE_FILE of
	// spec.env is used (it may extend the recipe's own list as "$COMPOSE_FILE:compose.x.yml");
	// without one, the recipe decides at each version, as abra does: the COMPOSE_FILE of its
	// .env.sample, else compose.yml.
	ComposeFiles []string `json:"composeFiles,omitempty"`
	// Env is merged over the recipe's .env.sample for every test app. Values may use
	// {{ .Stack }} for the test stack's name; a template may loop at most 1000 times and
	// render at most 64 KiB. A value may also be {age: <age -a output>}, a
	// test credential encrypted to the controller's age identity (--age-identity), decrypted
	// in memory only and never templated. Optional.
	Env Env `json:"env,omitempty"`
	// Tiers are the test tiers to run, in order. Names: install, upgrade, backup, restore,
	// custom, lint; each at most once. Optional. Defaults to
	// `[{name: install}, {name: upgrade, from: knownGood}, {name: backup}, {name: restore}]`.
	Tiers []Tier `json:"tiers,omitempty"`
	// ExpectedNA names tiers that are intentionally not applicable to this recipe (for example
	// backup and restore for a recipe without backupbot labels), so that their NotApplicable
	// result is expected rather than a warning. Optional.
	ExpectedNA []TierName `json:"expectedNA,omitempty"`
	// Timeout bounds a whole test run, all tiers included. A duration such as 30m or 1h.
	// Optional. Defaults to `30m`.
	Timeout Duration `json:"timeout,omitzero"`
	// Marker says how the backup, restore and upgrade tiers prove that data survives, as
	// application data (a row in a database) rather than a file: needed when the backup plan
	// takes only a dump file from a volume. Optional. When unset, a marker file is written into
	// the data the backup plan takes (the first whole volume it backs up).
	Marker *Marker `json:"marker,omitempty"`
	// Secrets gives test values of secrets the recipe marks generate=false, by compose secret
	// name, as WarmCanonical.spec.secrets does for warm apps; other secrets of test stacks are
	// generated. Optional.
	Secrets map[string]SecretValue `json:"secrets,omitempty"`
	// Requires are apps a test run needs (an identity provider, a proxy), by a name that the
	// test env templates use: {{ .Requires.<name>.Stack }}, {{ .Requires.<name>.Env.X }} and
	// {{ .Requires.<name>.Networks }}. Each is either another recipe at a version, deployed
	// as a throw-away stack of the run before the tiers and removed with the run's stacks, or
	// an existing warm app, used as it is and never modified. A required app that cannot
	// start ends the run Aborted, naming it: it is no verdict on the recipe under test.
	// Optional.
	Requires []Requirement `json:"requires,omitempty"`
	// Placement is added to the placement of every service of the run's test stacks, in
	// Swarm's syntax, so that tests stay on the nodes meant for them (and off the warm apps').
	// Optional.
	Placement *Placement `json:"placement,omitempty"`
	// Trust says what a ref's compose files may ask of the host, and whether custom tiers may
	// run on it. `trusted` allows whatever `docker stack deploy` does. `untrusted` refuses the
	// ref at the lint tier, before any write to Swarm, when its loaded stack reaches the host:
	// bind mounts (the Docker socket included), privileged, cap_add, devices,
	// network_mode/pid/ipc/userns_mode host, security_opt that lifts confinement, sysctls,
	// configs, secrets or env_file outside the checkout, external networks other than proxy and
	// the networks of spec.requires, volumes whose driver options name a host device; custom
	// tiers without an image are refused too, as they would run the ref's code on the
	// controller host (a custom tier with an image runs in a container on the swarm).
	// Optional. When unset, each ref decides: a pull request (trigger --pr) and a ref that is
	// neither a tag nor spec.source.branch (by name or by its head commit) are untrusted, tags
	// and that branch are trusted. Set trusted to test pull requests of a repository you
	// control as today.
	Trust Trust `json:"trust,omitempty"`
	// KeepFailedStacks leaves the throw-away stacks of a failed tier in place for debugging
	// instead of removing them. They carry the run label and are removed by the next garbage
	// collection at start-up. Optional. Defaults to `false`.
	KeepFailedStacks bool `json:"keepFailedStacks,omitempty"`
}

// Marker is a pair of commands that write and read back a marker as application data. Both run
// in a running container of Service with CCCI_MARKER (unique per run and tier) in their
// environment.
type Marker struct {
	// Service is the compose service whose container runs both commands, e.g. db. It must be a
	// service of the recipe (the lint tier checks). Required.
	Service string `json:"service"`
	// Write stores $CCCI_MARKER as application data, e.g. ["sh", "-c", "psql … INSERT … '$CCCI_MARKER'"].
	// It must exit 0. Required.
	Write []string `json:"write"`
	// Read prints the stored markers; its stdout must contain $CCCI_MARKER, e.g. ["psql", "-tAc",
	// "SELECT v FROM ci_marker"]. Required.
	Read []string `json:"read"`
}

// Placement is Swarm placement for test stacks.
type Placement struct {
	// Constraints are Swarm placement constraints, such as node.hostname==mn3 or
	// node.labels.ccci.test==true (an == or != between a node attribute and a value).
	// Optional.
	Constraints []string `json:"constraints,omitempty"`
	// Preferences are Swarm placement preferences, such as {spread: node.labels.zone}.
	// Optional.
	Preferences []PlacementPreference `json:"preferences,omitempty"`
}

// PlacementPreference is a Swarm placement preference.
type PlacementPreference struct {
	// Spread spreads tasks evenly over the values of a node descriptor, such as
	// node.labels.zone. Required.
	Spread string `json:"spread"`
}

// MarkerEnv is the environment variable that carries the marker to Marker.Write and Marker.Read.
const MarkerEnv = "CCCI_MARKER"

// Source is the git repository of a recipe.
type Source struct {
	// Git is the URL or local path of the recipe's git repository. Required.
	Git string `json:"git"`
	// Branch is the default branch, used for refs that are not tags. Optional. Defaults to
	// `main`.
	Branch string `json:"branch,omitempty"`
}

// Requirement is an app a test run needs: exactly one of WarmCanonical, or Recipe with Source
// and Version.
type Requirement struct {
	// Name is how the test env templates refer to it ({{ .Requires.<name>.Stack }}): lowercase
	// letters, digits and '_', starting with a letter. Required.
	Name string `json:"name"`
	// WarmCanonical names an existing warm app the run uses as it runs (its stack, env and
	// networks); it is never deployed to or modified. Optional.
	WarmCanonical string `json:"warmCanonical,omitempty"`
	// Recipe names another recipe to deploy as a throw-away stack for the run. Optional.
	Recipe string `json:"recipe,omitempty"`
	// Source is that recipe's repository. Required with Recipe.
	Source *Source `json:"source,omitempty"`
	// Version is that recipe's version tag. Required with Recipe.
	Version string `json:"version,omitempty"`
	// Env is merged over that recipe's .env.sample, as spec.env is for the recipe under test
	// ({{ .Stack }} is the required app's stack). Optional.
	Env Env `json:"env,omitempty"`
}

// TierName names a test tier.
type TierName string

// The known test tiers.
const (
	// TierInstall deploys the candidate fresh, waits until it is healthy and runs checks.
	TierInstall TierName = "install"
	// TierUpgrade deploys the base version, upgrades to the candidate, waits and checks.
	TierUpgrade TierName = "upgrade"
	// TierBackup writes a marker and backs the app up through its backupbot labels.
	TierBackup TierName = "backup"
	// TierRestore destroys the state, restores the backup and expects the marker back.
	TierRestore TierName = "restore"
	// TierCustom runs recipe-specific commands.
	TierCustom TierName = "custom"
	// TierLint checks that the compose files load and convert, images are pinned and versions
	// are consistent.
	TierLint TierName = "lint"
)

// TierNames lists the known tiers in documentation order.
var TierNames = []TierName{TierInstall, TierUpgrade, TierBackup, TierRestore, TierCustom, TierLint}

// Values of Tier.From besides an exact tag.
const (
	// FromKnownGood upgrades from the warm app's last known-good version, else from the
	// previous tag.
	FromKnownGood = "knownGood"
	// FromPrevious upgrades from the tag before the candidate.
	FromPrevious = "previous"
)

// Tier is one test tier of a RecipeTest.
type Tier struct {
	// Name is the tier: install, upgrade, backup, restore, custom or lint. Required.
	Name TierName `json:"name"`
	// From is the base version of the upgrade tier: knownGood, previous or an exact tag such
	// as 1.2.0+1.24.2. Only for the upgrade tier. Optional. Defaults to `knownGood`.
	From string `json:"from,omitempty"`
	// Command is the command of the custom tier, run with the test app's environment: in the
	// recipe checkout on the controller host, or with image in a container where it replaces
	// the image's entrypoint. Required for the custom tier; not allowed for other tiers.
	Command []string `json:"command,omitempty"`
	// Image runs the custom tier's command in a one-off container of this image (local or in
	// a registry), a Swarm task placed like the run's stacks (spec.placement) and attached to
	// the networks of the test stack, whose services it reaches by name (tasks.<service>
	// where there is no virtual IP). The candidate's checkout is copied in read-only at
	// /recipe (RECIPE_DIR); ARTIFACTS_DIR (/artifacts) is writable by any user and copied
	// into the run's artifacts afterwards; the container carries the run's labels and is
	// removed when the tier ends. Only for the custom tier. Optional; when unset the command
	// runs on the controller host, which untrusted refs may not do.
	Image string `json:"image,omitempty"`
	// When gates the tier: it runs only if the condition holds, else its result is Skipped.
	// Optional.
	When *TierCondition `json:"when,omitempty"`
	// Timeout bounds this tier. A duration such as 10m. Optional; when unset the tier may use
	// what is left of the run's spec.timeout.
	Timeout Duration `json:"timeout,omitzero"`
}

// TierCondition gates a tier on a property of the recipe checkout.
type TierCondition struct {
	// FileExists is a path relative to the recipe root; the tier runs only if it exists, for
	// example compose.lfs.yml. Required.
	FileExists string `json:"fileExists"`
}

// RecipeTestStatus is the observed state of a RecipeTest, kept in the state directory.
type RecipeTestStatus struct {
	// ObservedGeneration is the hash of the spec last reconciled (see RecipeTestSpec.Hash).
	ObservedGeneration string `json:"observedGeneration,omitempty"`
	// LastHandledReconcileAt is the token of the last manual or Drone trigger acted upon.
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	// Conditions are Ready, Reconciling and Stalled.
	Conditions Conditions `json:"conditions,omitempty"`
	// Runs is the run history, newest first, at most MaxRuns entries.
	Runs []Run `json:"runs,omitempty"`
}

// MaxRuns bounds RecipeTestStatus.Runs.
const MaxRuns = 20

// Trigger says what started a test run.
type Trigger string

// The triggers of a test run.
const (
	// TriggerDrone is a Drone pipeline step.
	TriggerDrone Trigger = "drone"
	// TriggerManual is an operator's trigger command.
	TriggerManual Trigger = "manual"
	// TriggerPromotion is a WarmCanonical gating a promotion.
	TriggerPromotion Trigger = "promotion"
)

// Verdict is the outcome of a whole run.
type Verdict string

// The verdicts of a run.
const (
	// VerdictRunning means the run has not finished.
	VerdictRunning Verdict = "Running"
	// VerdictPassed means every applicable tier passed.
	VerdictPassed Verdict = "Passed"
	// VerdictFailed means at least one tier failed.
	VerdictFailed Verdict = "Failed"
	// VerdictAborted means the run stopped before a verdict: timeout, shutdown or an
	// infrastructure error that says nothing about the recipe.
	VerdictAborted Verdict = "Aborted"
)

// Result is the outcome of one tier.
type Result string

// The results of a tier.
const (
	// ResultPassed means the tier ran and its checks held.
	ResultPassed Result = "Passed"
	// ResultFailed means the tier ran and a check failed.
	ResultFailed Result = "Failed"
	// ResultSkipped means the tier did not run although the recipe could have it: its when
	// condition did not hold, an earlier failure made it pointless, or (upgrade) there is no
	// older version to upgrade from yet.
	ResultSkipped Result = "Skipped"
	// ResultNotApplicable means the recipe cannot have this tier, e.g. backup without
	// backupbot labels, or the tier is listed in spec.expectedNA.
	ResultNotApplicable Result = "NotApplicable"
)

// Run is one test run of a RecipeTest.
type Run struct {
	// ID identifies the run; throw-away stacks carry it in LabelRun.
	ID string `json:"id"`
	// Ref is what was asked for: a tag, a branch or a commit.
	Ref string `json:"ref,omitempty"`
	// Version is the recipe version the ref resolved to, e.g. 1.2.0+1.24.2.
	Version string `json:"version,omitempty"`
	// Commit is the git commit tested.
	Commit string `json:"commit,omitempty"`
	// BaseVersion is the version the upgrade tier started from.
	BaseVersion string `json:"baseVersion,omitempty"`
	// Trust is how far the run trusted its ref (see RecipeTestSpec.Trust): trusted or
	// untrusted. Unset in records of runs that never resolved their ref.
	Trust Trust `json:"trust,omitempty"`
	// SpecHash is the hash of the RecipeTest spec the run used; a promotion gate only counts
	// runs of the current spec.
	SpecHash string `json:"specHash,omitempty"`
	// Trigger says what started the run.
	Trigger Trigger `json:"trigger"`
	// PR is the pull request number for Drone-triggered runs.
	PR int `json:"pr,omitempty"`
	// SourceRepo is the repository (owner/name) a Drone-triggered run came from.
	SourceRepo string `json:"sourceRepo,omitempty"`
	// StartedAt is when the run started.
	StartedAt time.Time `json:"startedAt"`
	// FinishedAt is when the run finished; unset while it runs.
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Verdict is the outcome of the run.
	Verdict Verdict `json:"verdict"`
	// Queued is true while the run waits for a slot of the run pool (--max-runs): its
	// Verdict is Running and no tier has started.
	Queued bool `json:"queued,omitempty"`
	// Message explains the verdict for humans.
	Message string `json:"message,omitempty"`
	// Tiers are the per-tier results in run order.
	Tiers []TierResult `json:"tiers,omitempty"`
	// Images are the images of every stack of the run as resolved once before its first
	// deploy: service → image → digest (see RunImage).
	Images []RunImage `json:"images,omitempty"`
}

// TierResult is the outcome of one tier in a run.
type TierResult struct {
	// Name is the tier.
	Name TierName `json:"name"`
	// Result is Passed, Failed, Skipped or NotApplicable.
	Result Result `json:"result"`
	// Reason explains the result, e.g. "no service has backupbot.backup=true".
	Reason string `json:"reason,omitempty"`
	// Duration is how long the tier took.
	Duration Duration `json:"duration,omitzero"`
	// LogFile is the tier's log, relative to the run directory of the state dir.
	LogFile string `json:"logFile,omitempty"`
}

// Trust is how far a RecipeTest trusts a ref it tests: see RecipeTestSpec.Trust.
type Trust string

// The values of RecipeTestSpec.Trust.
const (
	// TrustTrusted lets a ref deploy whatever `docker stack deploy` allows and run custom tiers.
	TrustTrusted Trust = "trusted"
	// TrustUntrusted refuses a ref whose stack reaches the host, and its custom tiers that
	// have no image (they would run on the controller host).
	TrustUntrusted Trust = "untrusted"
)

// Trusts lists the valid values of RecipeTestSpec.Trust.
var Trusts = []Trust{TrustTrusted, TrustUntrusted}

// TrustOf decides the trust of one ref (see RecipeTestSpec.Trust): spec.trust when set;
// else untrusted for a pull request, trusted for a tag or the default branch, untrusted for
// anything else.
func (s *RecipeTestSpec) TrustOf(pullRequest, tag, defaultBranch bool) Trust {
	switch {
	case s.Trust != "":
		return s.Trust
	case pullRequest:
		return TrustUntrusted
	case tag || defaultBranch:
		return TrustTrusted
	}
	return TrustUntrusted
}
