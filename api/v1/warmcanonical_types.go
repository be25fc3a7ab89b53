package v1

import "time"

// WarmCanonical is the long-lived app of a recipe, kept at the newest version that passed its
// RecipeTest. A WarmCanonical that already runs the wanted version is converged, never an error.
type WarmCanonical struct {
	TypeMeta `json:",inline"`
	// Metadata names the object. Required.
	Metadata ObjectMeta `json:"metadata"`
	// Spec is the desired state. Optional: every field has a default.
	Spec WarmCanonicalSpec `json:"spec,omitzero"`
	// Status is the observed state. It lives in the state directory, never in a resource file.
	Status WarmCanonicalStatus `json:"status,omitzero"`
}

// Mode says whether a warm app runs.
type Mode string

// The modes of a warm app.
const (
	// ModeLive keeps the app deployed.
	ModeLive Mode = "live"
	// ModeData keeps the app undeployed with its volumes kept.
	ModeData Mode = "data"
)

// VersionLatest is the spec.version that tracks the newest tag of the recipe.
const VersionLatest = "latest"

// WarmCanonicalSpec is the desired state of a WarmCanonical.
type WarmCanonicalSpec struct {
	// RecipeTest names the RecipeTest whose Passed run gates every promotion; its source is
	// where versions come from. Optional. Defaults to `<metadata.name>`.
	RecipeTest string `json:"recipeTest,omitempty"`
	// Version is the wanted version: latest (the newest tag of the recipe) or an exact tag
	// such as 3.5.3+1.24.2. Optional. Defaults to `latest`.
	Version string `json:"version,omitempty"`
	// Stack is the Swarm stack name of the app (abra's STACK_NAME). Letters, digits, '_' and
	// '-'. Optional. Defaults to `warm_<metadata.name>`.
	Stack string `json:"stack,omitempty"`
	// Env is merged over the recipe's .env.sample for the warm app. A value is a string or
	// {age: <age -a output>}: a value encrypted to the controller's age identity
	// (--age-identity), decrypted in memory only when the app is deployed. Optional.
	Env Env `json:"env,omitempty"`
	// Mode is live (deployed) or data (services removed, volumes kept). Optional. Defaults
	// to `live`.
	Mode Mode `json:"mode,omitempty"`
	// AllowMajor lets a promotion cross a MAJOR bump of the recipe version; when false such a
	// promotion is held with Ready=False, reason MajorUpgradeHeld. Optional. Defaults to
	// `false`.
	AllowMajor bool `json:"allowMajor,omitempty"`
	// Rollback deploys the known-good version back when a promotion does not converge.
	// Optional. Defaults to `true`.
	Rollback *bool `json:"rollback,omitempty"`
	// Interval is the period of re-checks for new versions and drift. A duration such as 10m.
	// Optional. Defaults to `10m`.
	Interval Duration `json:"interval,omitzero"`
	// Timeout bounds the convergence of a promotion. A duration such as 15m. Optional.
	// Defaults to `15m`.
	Timeout Duration `json:"timeout,omitzero"`
	// Soak is how long a promoted version must keep every task running and healthy after it
	// converged before it counts as known-good; a task that fails or turns unhealthy in that
	// window fails the promotion (rolled back, the version marked failed). A duration such as
	// 5m. Optional; when unset a version is known-good as soon as it converged.
	Soak Duration `json:"soak,omitzero"`
	// Drift says what a hand edit of the live stack (docker service update, a scale, another
	// image, a removed service) gets: report sets the condition Drifted=True, reason
	// SpecDrift, naming the changed fields per service, and changes nothing; correct deploys
	// the recorded spec again, updating only the drifted services. Checked at every reconcile
	// of a converged app. Optional. Defaults to `report`.
	Drift DriftPolicy `json:"drift,omitempty"`
	// Images says what a tag that moved in its registry since the version's run passed gets
	// (the tag now names other bytes than those tested): follow starts a new test run of the
	// version, the warm app keeping the tested digests until that run passes, then promoted
	// to the new ones; pinned keeps the tested digests and only reports the move in the Ready
	// message. A local image (built on the host) whose ID changed counts as moved too.
	// Optional. Defaults to `follow`.
	Images ImagePolicy `json:"images,omitempty"`
	// Suspend stops reconciling this app (reason Suspended) until set back to false.
	// Optional. Defaults to `false`.
	Suspend bool `json:"suspend,omitempty"`
	// DependsOn names WarmCanonicals that must be Ready before this app is deployed or
	// promoted (traefik before every web app, keycloak before an SSO app); until then it is
	// Ready=False, reason DependencyNotReady. An app already converged at its version is left
	// alone. A missing name or a cycle is a validation error. Optional.
	DependsOn []string `json:"dependsOn,omitempty"`
	// Secrets gives the values of secrets the recipe marks generate=false (an SMTP password,
	// an OAuth client secret), by compose secret name: each is inserted under the recipe's
	// versioned Swarm name before the deploy, when that name does not exist yet. Values are
	// read in memory only and never logged or shown. Optional.
	Secrets map[string]SecretValue `json:"secrets,omitempty"`
}

// DriftPolicy is what a WarmCanonical does about a live stack that differs from its spec.
type DriftPolicy string

// The drift policies.
const (
	// DriftReport reports drift in the Drifted condition and changes nothing.
	DriftReport DriftPolicy = "report"
	// DriftCorrect deploys the recorded spec again, one update per drifted service.
	DriftCorrect DriftPolicy = "correct"
)

// ImagePolicy is what a WarmCanonical does when a tested image's tag moved.
type ImagePolicy string

// The image policies.
const (
	// ImagesFollow tests the moved tag's new image and promotes it once it passed.
	ImagesFollow ImagePolicy = "follow"
	// ImagesPinned keeps running the tested digest and reports the move.
	ImagesPinned ImagePolicy = "pinned"
)

// SecretValue is an operator-provided secret value: exactly one of File and Age.
type SecretValue struct {
	// File is an absolute path on the controller's host whose content is the value (a trailing
	// newline is dropped). Optional.
	File string `json:"file,omitempty"`
	// Age is the value encrypted with age to the controller's identity (--age-identity), in
	// the ASCII-armored form of `age -a` ("-----BEGIN AGE ENCRYPTED FILE-----"). Optional.
	Age string `json:"age,omitempty"`
}

// WarmCanonicalStatus is the observed state of a WarmCanonical, kept in the state directory.
type WarmCanonicalStatus struct {
	// ObservedGeneration is the hash of the spec (see WarmCanonicalSpec.Hash) of the last
	// reconcile that reached its goal: the warm app converged at its desired version (or, in
	// data mode, undeployed). A reconcile that waits, fails, stalls or will be retried leaves
	// it as it was, so ObservedGeneration differing from the current spec's hash says that
	// spec has not been realised yet.
	ObservedGeneration string `json:"observedGeneration,omitempty"`
	// DesiredVersion is the version spec.version resolved to.
	DesiredVersion string `json:"desiredVersion,omitempty"`
	// DeployedVersion is the version label of the running stack, empty when not deployed.
	DeployedVersion string `json:"deployedVersion,omitempty"`
	// KnownGoodVersion is the last version that converged after a promotion; the rollback
	// target and the default upgrade base.
	KnownGoodVersion string `json:"knownGoodVersion,omitempty"`
	// DataNodes is, per service with named volumes (which are node-local), the id of the node
	// its task ran on when the warm app last converged: where its data is. A task found on
	// another node is reported (Ready=False, Stalled, reason DataNodeMoved) and nothing is
	// deployed over it; a forced reconcile accepts the node it runs on now.
	DataNodes map[string]string `json:"dataNodes,omitempty"`
	// DeployedImages are the images the warm app was last promoted with, by digest: image
	// reference as the compose file writes it → the digest its passed run tested (local
	// images, deployed by tag, are not listed).
	DeployedImages map[string]string `json:"deployedImages,omitempty"`
	// LastAttemptedVersion is the last version a promotion was tried with.
	LastAttemptedVersion string `json:"lastAttemptedVersion,omitempty"`
	// FailedVersions are versions whose tests or promotion failed under the current spec, or
	// whose deploy with an edited spec.env did not converge; they are not retried until the
	// spec changes or a forced trigger comes.
	FailedVersions []string `json:"failedVersions,omitempty"`
	// FailedVersionsSpec is the hash of the spec FailedVersions were recorded under; a
	// reconcile of another spec forgets them. (A status written before this field existed
	// keeps its failed versions under ObservedGeneration.)
	FailedVersionsSpec string `json:"failedVersionsSpec,omitempty"`
	// Progress is the work a reconcile started and a later one carries on: a test run the
	// app waits for, a promotion not settled yet. It outlives a retried error (Reconciling
	// then says ProgressingWithRetry), so the retry resumes the work rather than starting
	// another. Nil when nothing is under way.
	Progress *Progress `json:"progress,omitempty"`
	// LastHandledReconcileAt is the token of the last manual or Drone trigger acted upon.
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	// Conditions are Ready, Reconciling and Stalled.
	Conditions Conditions `json:"conditions,omitempty"`
}

// Progress is work under way on a WarmCanonical (see WarmCanonicalStatus.Progress).
type Progress struct {
	// Reason is what is under way: Testing (waiting for a test run of Version), Promoting (a
	// deploy of Version that has not settled) or Progressing (an apply of an edited spec.env,
	// or a drift correction).
	Reason string `json:"reason"`
	// Version is the version the work is about.
	Version string `json:"version"`
	// Message says what is under way, for the Reconciling condition.
	Message string `json:"message,omitempty"`
	// Since is when the work started; a test run that finished before it is not the one the
	// app waits for.
	Since time.Time `json:"since"`
}
