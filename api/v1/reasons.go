package v1

// Reasons of conditions: CamelCase, stable, for machines; the condition's message is for humans.
const (
	// ReasonAlreadyDeployed: the warm app already runs the desired version and is converged;
	// nothing was written to Swarm.
	ReasonAlreadyDeployed = "AlreadyDeployed"
	// ReasonPromoted: the warm app was deployed at the desired version and converged.
	ReasonPromoted = "Promoted"
	// ReasonApplied: the warm app already ran the desired version and was deployed again with
	// the edited spec.env, then converged; no test run gates this (the version's tests passed).
	ReasonApplied = "Applied"
	// ReasonTesting: a test run gating the desired version is in progress.
	ReasonTesting = "Testing"
	// ReasonPromoting: the warm app is being deployed at the desired version.
	ReasonPromoting = "Promoting"
	// ReasonTestsFailed: the RecipeTest run for the desired version failed.
	ReasonTestsFailed = "TestsFailed"
	// ReasonTestsPassed: the RecipeTest's last run passed.
	ReasonTestsPassed = "TestsPassed"
	// ReasonPromotionFailed: the promotion did not converge within spec.timeout.
	ReasonPromotionFailed = "PromotionFailed"
	// ReasonRolledBack: after a failed promotion the known-good version was deployed back.
	ReasonRolledBack = "RolledBack"
	// ReasonMajorUpgradeHeld: the desired version is a MAJOR bump and spec.allowMajor is false.
	ReasonMajorUpgradeHeld = "MajorUpgradeHeld"
	// ReasonInvalidSpec: the resource is invalid; nothing is retried until it is edited.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonSuspended: spec.suspend is true.
	ReasonSuspended = "Suspended"
	// ReasonRecipeTestNotFound: spec.recipeTest names no RecipeTest.
	ReasonRecipeTestNotFound = "RecipeTestNotFound"
	// ReasonVersionNotFound: spec.version is not a tag of the recipe.
	ReasonVersionNotFound = "VersionNotFound"
	// ReasonSourceUnavailable: the recipe repository could not be fetched.
	ReasonSourceUnavailable = "SourceUnavailable"
	// ReasonDeployFailed: a deploy to Swarm returned an error.
	ReasonDeployFailed = "DeployFailed"
	// ReasonProgressing: a reconcile is in progress.
	ReasonProgressing = "Progressing"
	// ReasonProgressingWithRetry: the last reconcile met an error that a retry may mend (the
	// Docker engine or a recipe source did not answer); the queue retries it with backoff.
	ReasonProgressingWithRetry = "ProgressingWithRetry"
	// ReasonDependencyNotReady: a WarmCanonical of spec.dependsOn is not Ready, so nothing is
	// deployed or promoted.
	ReasonDependencyNotReady = "DependencyNotReady"
	// ReasonDegraded: the warm app runs its known-good, desired version, but tasks fail or are
	// unhealthy; nothing changed its version, so nothing is rolled back.
	ReasonDegraded = "Degraded"
	// ReasonSpecDrift: a service of the live stack differs from its applied spec.
	ReasonSpecDrift = "SpecDrift"
	// ReasonNoDrift: the live stack runs as applied.
	ReasonNoDrift = "NoDrift"
	// ReasonDataNodeMoved: a service's task runs on another node than the one holding its
	// node-local volumes (a drained or failed node): it runs on empty data.
	ReasonDataNodeMoved = "DataNodeMoved"
	// ReasonNodeUnavailable: a node that ran a task of the stack is down or drained, or no node
	// can run a task at all; the promotion resumes once one can.
	ReasonNodeUnavailable = "NodeUnavailable"
	// ReasonUnschedulable: a placement constraint no node of the swarm satisfies (no node has
	// the label or hostname it names); terminal until the spec, the recipe or the nodes change.
	ReasonUnschedulable = "Unschedulable"
	// ReasonDataMode: the warm app is in data mode: services removed, volumes kept.
	ReasonDataMode = "DataMode"
	// ReasonFileUnreadable: the object's resource file cannot be read (permissions, an I/O
	// error); the object keeps its last good spec (condition LastGoodSpec).
	ReasonFileUnreadable = "FileUnreadable"
	// ReasonFileInvalid: the object's resource file no longer parses, or its document is
	// invalid; the object keeps its last good spec (condition LastGoodSpec).
	ReasonFileInvalid = "FileInvalid"
	// ReasonFileAbsent: the object's resource file is gone; the object keeps its last good spec
	// for a settle time, then is forgotten (condition LastGoodSpec).
	ReasonFileAbsent = "FileAbsent"
	// ReasonRemoved: the object is no longer defined in the resource files. It is forgotten,
	// not undeployed: a warm app's stack is left as it runs.
	ReasonRemoved = "Removed"
)
