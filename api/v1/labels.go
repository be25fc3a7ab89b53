package v1

// Label keys set on Swarm objects. Other packages use these constants, never the literals.
const (
	// LabelStackNamespace is the label docker stack deploy (and abra) put on every object of a
	// stack; its value is the stack name.
	LabelStackNamespace = "com.docker.stack.namespace"

	// LabelStackImage is the label docker stack deploy puts on a service with the image
	// reference as written in the compose file.
	LabelStackImage = "com.docker.stack.image"

	// LabelManagedBy marks the objects this controller created; its value is ManagedByValue.
	LabelManagedBy = "ccci.commoninternet.net/managed-by"

	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "ccci-controller"

	// LabelRole says what a stack is for: RoleWarm or RoleTest.
	LabelRole = "ccci.commoninternet.net/role"

	// LabelOwner carries the owner of a test run's objects: a stable id of the host and the
	// state directory of the process that made them (see OwnerID in internal/tiers). Garbage
	// collection removes only objects of its own owner.
	LabelOwner = "ccci.commoninternet.net/owner"
	// LabelRun carries the id of the test run that owns a throw-away stack. The design calls it
	// ccci.run; garbage collection at start-up removes everything that carries it.
	LabelRun = "ccci.run"

	// LabelJobStager marks the container that fills a one-shot job's volumes before its task
	// starts (a custom tier with an image): not a Swarm task, so removing the stack's services
	// leaves it, and a crash between its creation and its removal must not keep it (and the
	// volumes it holds) for ever.
	LabelJobStager = "ccci.commoninternet.net/job-stager"

	// LabelSpecHash carries a hash of the desired service spec, so a redeploy can tell without
	// a deep comparison that nothing changed.
	LabelSpecHash = "ccci.commoninternet.net/spec-hash"

	// LabelSecretOf carries the stack name on external secrets the controller generated. It is
	// deliberately not LabelStackNamespace: `docker stack rm` and `abra app undeploy` remove
	// everything with that label, and a generated database password must outlive an undeploy
	// as long as the volumes it protects.
	LabelSecretOf = "ccci.commoninternet.net/secret-of"

	// LabelTestSuite marks objects created by this repository's own test suites; its value is
	// a per-run id so a suite removes exactly what it made.
	LabelTestSuite = "ccci.commoninternet.net/test-suite"

	// LabelSampleSourceHash is set on the locally built sample app images
	// (ccci-sample-app:<version>); its value is a hash of the app's source and the version, so
	// the test fixtures rebuild an image only when it changed.
	LabelSampleSourceHash = "ccci.commoninternet.net/sample-source-hash"
)

// Roles of a stack, the values of LabelRole.
const (
	RoleWarm = "warm"
	RoleTest = "test"
)

// Labels of Co-op Cloud conventions that abra and backupbot read.
const (
	// LabelBackup enables backups of a service when "true".
	LabelBackup = "backupbot.backup"
	// LabelBackupPath lists container paths to save, comma separated: the older per-service
	// style of backupbot, still common in recipes.
	LabelBackupPath = "backupbot.backup.path"
	// LabelBackupVolumesPrefix starts the labels of the backup spec that select volumes:
	// backupbot.backup.volumes.<volume>=false excludes a volume, and
	// backupbot.backup.volumes.<volume>.path (comma separated, relative to the volume root)
	// limits what is taken from it.
	LabelBackupVolumesPrefix = "backupbot.backup.volumes."
	// LabelBackupPreHook is a command run in the container before a backup.
	LabelBackupPreHook = "backupbot.backup.pre-hook"
	// LabelBackupPostHook is a command run in the container after a backup.
	LabelBackupPostHook = "backupbot.backup.post-hook"
	// LabelRestorePreHook is a command run in the container before a restore.
	LabelRestorePreHook = "backupbot.restore.pre-hook"
	// LabelRestorePostHook is a command run in the container after a restore.
	LabelRestorePostHook = "backupbot.restore.post-hook"
)

// VersionLabel returns abra's deployed-version label key for a stack:
// coop-cloud.<STACK_NAME>.version.
func VersionLabel(stack string) string { return "coop-cloud." + stack + ".version" }

// ChaosLabel returns abra's chaos label key for a stack: coop-cloud.<STACK_NAME>.chaos.
func ChaosLabel(stack string) string { return "coop-cloud." + stack + ".chaos" }
