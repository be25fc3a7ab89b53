package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// errNotFound marks a WarmCanonical that no file defines.
var errNotFound = errors.New("not defined in any resource file")

// loadWarmCanonical is step 1: the defaulted, valid object, or an error. An invalid object is
// Stalled until a person edits its file.
func (r *WarmCanonicalReconciler) loadWarmCanonical(name string, st *v1.WarmCanonicalStatus) (*v1.WarmCanonical, error) {
	wc, err := r.getWarmCanonical(name)
	if inv := (*InvalidError)(nil); errors.As(err, &inv) {
		msg := err.Error()
		r.setCondition(st, v1.ConditionStalled, true, v1.ReasonInvalidSpec, msg)
		r.setReady(st, false, v1.ReasonInvalidSpec, msg)
		r.setReconciling(st, false, v1.ReasonInvalidSpec, msg)
	}
	if err == nil || errors.Is(err, errNotFound) {
		noteFile(r.Objects, v1.Key{Kind: v1.KindWarmCanonical, Name: name}, err == nil, &st.Conditions, r.now())
	}
	return wc, err
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
func (r *WarmCanonicalReconciler) loadRecipeTest(wc *v1.WarmCanonical, st *v1.WarmCanonicalStatus) (*v1.RecipeTest, error) {
	obj, err := r.Objects.Get(v1.KindRecipeTest, wc.Spec.RecipeTest)
	if err == nil && obj == nil {
		err = fmt.Errorf("WarmCanonical %q: spec.recipeTest %q names no RecipeTest (valid: the name of a RecipeTest in the resources directory)", wc.Metadata.Name, wc.Spec.RecipeTest)
		r.setReady(st, false, v1.ReasonRecipeTestNotFound, err.Error())
		r.setReconciling(st, false, v1.ReasonRecipeTestNotFound, err.Error())
		// Stalled until a person adds the RecipeTest; its reconcile wakes this object.
		r.setCondition(st, v1.ConditionStalled, true, v1.ReasonRecipeTestNotFound, err.Error())
		return nil, err
	}
	if err != nil {
		msg := fmt.Sprintf("RecipeTest %q is invalid: %v", wc.Spec.RecipeTest, err)
		r.setReady(st, false, v1.ReasonInvalidSpec, msg)
		r.setReconciling(st, false, v1.ReasonInvalidSpec, msg)
		return nil, errors.New(msg)
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
	msg := fmt.Sprintf("recipe %s (%s): %v", rt.Spec.Recipe, rt.Spec.Source.Git, err)
	r.setReady(st, false, v1.ReasonSourceUnavailable, msg)
	return "", "", fmt.Errorf("read versions of recipe %q: %w", rt.Spec.Recipe, err)
}

func (r *WarmCanonicalReconciler) pick(wc *v1.WarmCanonical, rt *v1.RecipeTest, vs recipe.Versions, st *v1.WarmCanonicalStatus) (string, error) {
	if wc.Spec.Version == v1.VersionLatest {
		if v, ok := vs.Latest(); ok {
			st.DesiredVersion = v.Tag
			return v.Tag, nil
		}
		err := &recipe.VersionNotFoundError{Recipe: rt.Spec.Recipe, Tag: v1.VersionLatest}
		r.setReady(st, false, v1.ReasonVersionNotFound, fmt.Sprintf("WarmCanonical %q: recipe %s has no version tags", wc.Metadata.Name, rt.Spec.Recipe))
		return "", err
	}
	v, err := vs.Find(wc.Spec.Version)
	if err != nil {
		msg := fmt.Sprintf("WarmCanonical %q: spec.version: %v", wc.Metadata.Name, err)
		r.setReady(st, false, v1.ReasonVersionNotFound, msg)
		r.setReconciling(st, false, v1.ReasonVersionNotFound, msg)
		return "", err
	}
	st.DesiredVersion = v.Tag
	return v.Tag, nil
}

// gate reads the run history of the RecipeTest for the desired version.
func (r *WarmCanonicalReconciler) gate(rt *v1.RecipeTest, desired, commit string, st v1.WarmCanonicalStatus) (Gate, error) {
	runs, err := LoadRuns(r.Store, rt.Metadata.Name)
	if err != nil {
		return Gate{}, err
	}
	return GateFor(GateInput{Runs: runs, Version: desired, Commit: commit, SpecHash: rt.SpecHash(),
		WaitingSince: waitingSince(st, desired), Active: r.Runs.Active, Now: r.now()}), nil
}

// test is step 8 when no passed run exists: start one (or join the running one) and return;
// the run pool wakes this object when the run ends.
func (r *WarmCanonicalReconciler) test(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	runID := p.RunID
	if p.Action == ActionTest {
		base := st.DeployedVersion
		if base == "" || base == p.To {
			base = st.KnownGoodVersion
		}
		id, err := r.Runs.Start(RunRequest{
			RecipeTest: o.rt.Metadata.Name, Ref: p.To, Version: p.To, Trigger: v1.TriggerPromotion,
			KnownGood: base, Owner: o.name,
		})
		if err != nil {
			return out, fmt.Errorf("start test run of %s: %w", p.To, err)
		}
		runID = id
		// A forced retry starts afresh: the version is no longer failed until this run says so.
		st.FailedVersions = slices.DeleteFunc(st.FailedVersions, func(v string) bool { return v == p.To })
		logr.FromContextOrDiscard(ctx).Info("Testing version before promotion", "version", p.To, "run", runID)
	}
	st.LastAttemptedVersion = p.To
	msg := fmt.Sprintf("waiting for test run %s of %s", runID, p.To)
	if p.Moved != "" {
		msg = p.Moved + "; " + msg
	}
	if runID == "" {
		msg = p.Message
		out.RequeueAfter = p.RetryAfter
	}
	r.setReconciling(st, true, v1.ReasonTesting, msg)
	r.setReady(st, false, v1.ReasonTesting, msg)
	out.Result, out.RunID, out.Message = ResultTesting, runID, msg
	return out, nil
}

// promote is steps 9 and 10: deploy, wait, and move known-good only on success.
func (r *WarmCanonicalReconciler) promote(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	st.LastAttemptedVersion = p.To
	r.setReconciling(st, true, v1.ReasonPromoting, fmt.Sprintf("deploying %s to stack %s", p.To, stack))
	// Persist before touching Swarm: after a crash, step 5 or the resumed promotion finds
	// this mark and reports the promotion instead of starting another.
	if err := r.persist(o.name, o.saved, st); err != nil {
		return out, err
	}
	if err := r.recordPromotion(o.name, p, PromotionStarted); err != nil {
		return out, err
	}
	log.Info("Promoting warm app", "stack", stack, "from", p.From, "to", p.To, "commit", p.Commit)
	app := r.app(o)
	app.Commit = p.Commit
	failed, err := r.deployAndWait(ctx, st, o, app, p.To, o.wc.Spec.Soak.Duration)
	if swarm.IsEngineFailure(err) {
		// The engine failed, not the version: keep the Promoting mark, so that once the engine
		// is back the queue's retry resumes the promotion (step 5 reports it if it converged).
		err = fmt.Errorf("the Docker engine failed during the promotion of %s to stack %s; resuming once it answers: %w", p.To, stack, err)
		r.setReady(st, false, v1.ReasonPromoting, err.Error())
	}
	if err != nil {
		return out, err
	}
	if failed == nil {
		st.KnownGoodVersion, st.DeployedVersion = p.To, p.To
		recordDataNodes(st, o.after)
		msg := fmt.Sprintf("promoted from %s to %s", orNone(p.From), p.To)
		r.setReady(st, true, v1.ReasonPromoted, msg)
		r.setReconciling(st, false, v1.ReasonPromoted, msg)
		out.Result, out.Message = ResultPromoted, msg
		log.Info("Promoted warm app", "stack", stack, "from", p.From, "to", p.To)
		r.pruneSecrets(ctx, stack)
		return out, errors.Join(r.recordPromotion(o.name, p, PromotionSucceeded), r.recordKnownGood(o.name, p.To, o.wc.Spec.Env))
	}
	msg := fmt.Sprintf("%s did not converge on stack %s: %v", p.To, stack, failed)
	if loc := (*LocalityError)(nil); errors.As(failed, &loc) && len(loc.Unusable) > 0 {
		// The node holding the data went away under the promotion: no verdict on the version,
		// and a rollback would land away from the data too.
		msg = fmt.Sprintf("the promotion of %s to stack %s stopped: %v; node %s cannot run tasks, so rolling back would not bring the data back; nothing more is deployed until the task runs where its data is", p.To, stack, failed, strings.Join(loc.Unusable, ", "))
		st.DeployedVersion = p.To
		r.setCondition(st, v1.ConditionStalled, true, v1.ReasonDataNodeMoved, msg)
		r.setReady(st, false, v1.ReasonDataNodeMoved, msg)
		r.setReconciling(st, false, v1.ReasonDataNodeMoved, msg)
		out.Result, out.Message = ResultStalled, msg
		log.Info("Promotion stalled", "stack", stack, "version", p.To, "nodes", loc.Unusable)
		return out, r.recordPromotion(o.name, p, PromotionFailed)
	}
	if err := r.failVersion(st, o, p.To, msg); err != nil {
		return out, err
	}
	if err := r.recordPromotion(o.name, p, PromotionFailed); err != nil {
		return out, err
	}
	log.Info("Promotion failed", "stack", stack, "version", p.To, "error", failed.Error())
	kg := st.KnownGoodVersion
	if !o.wc.Spec.RollbackEnabled() || kg == "" || kg == p.To {
		out.Result, out.Message = ResultFailed, msg
		return out, nil
	}
	return r.rollback(ctx, out, st, o, Plan{Action: ActionRollback, From: p.To, To: kg}, msg)
}

// pruneSecrets removes, once a promotion or an apply converged, the secret versions no service
// of the stack uses any more (a bumped SECRET_<NAME>_VERSION). Only names are logged; a
// failure is logged, never a failed promotion, and the next promotion or apply tries again.
func (r *WarmCanonicalReconciler) pruneSecrets(ctx context.Context, stack string) {
	log := logr.FromContextOrDiscard(ctx)
	removed, err := r.Cluster.PruneSecrets(ctx, stack)
	if len(removed) > 0 {
		log.Info("Removed secret versions no service uses", "stack", stack, "secrets", removed)
	}
	if err != nil {
		log.Info("Could not remove unused secret versions", "stack", stack, "error", err.Error())
	}
}

// failVersion records that version did not converge: it is deployed, failed (not retried
// until the spec changes or a forced reconcile), and the status says why; persisted before
// any rollback touches Swarm.
func (r *WarmCanonicalReconciler) failVersion(st *v1.WarmCanonicalStatus, o *observation, version, msg string) error {
	st.DeployedVersion = version
	if !slices.Contains(st.FailedVersions, version) {
		st.FailedVersions = append(st.FailedVersions, version)
	}
	r.setReady(st, false, v1.ReasonPromotionFailed, msg)
	r.setReconciling(st, false, v1.ReasonPromotionFailed, msg)
	return r.persist(o.name, o.saved, st)
}

// deployAndWait is the one Swarm write of promote, apply and rollback: deploy app at version,
// wait for the stack to converge with its stateful tasks on the nodes holding their volumes,
// then, for a soak, watch it stay healthy. failed says the version did not converge (a verdict
// on the version); err is anything else (Swarm refused the deploy, the engine failed, the
// process is shutting down), which the queue retries and which moves no version.
func (r *WarmCanonicalReconciler) deployAndWait(ctx context.Context, st *v1.WarmCanonicalStatus, o *observation, app WarmApp, version string, soak time.Duration) (failed, err error) {
	stack := app.Stack
	if err := r.Cluster.Deploy(ctx, app, version); err != nil {
		err = fmt.Errorf("deploy %s to stack %s: %w", version, stack, err)
		if !swarm.IsEngineFailure(err) {
			r.setReady(st, false, v1.ReasonDeployFailed, err.Error())
		}
		return nil, err
	}
	werr := r.Cluster.WaitConverged(ctx, stack, o.wc.Spec.Timeout.Duration)
	if werr != nil && ctx.Err() == nil && !swarm.IsEngineFailure(werr) {
		// An update Swarm paused because a node was drained under it is the node's doing.
		if gone := r.nodeGone(ctx, o); gone != nil {
			werr = fmt.Errorf("%w (%v)", gone, werr)
		}
	}
	if werr == nil {
		werr = r.checkLocality(ctx, o, stack)
	}
	if werr == nil && soak > 0 {
		r.setReconciling(st, true, v1.ReasonPromoting, fmt.Sprintf("%s converged on stack %s; soaking for %s before it counts as known-good", version, stack, soak))
		if err := r.persist(o.name, o.saved, st); err != nil {
			return nil, err
		}
		werr = r.soak(ctx, o, stack, soak)
	}
	if ctx.Err() != nil || swarm.IsEngineFailure(werr) {
		// Shut down mid-wait, or the engine failed: no verdict on the version. A node that
		// went away, or no node able to run a task, stalls the app until a node can: named.
		var down *swarm.NodeDownError
		var unschedulable *swarm.UnschedulableError
		if errors.As(werr, &down) || errors.As(werr, &unschedulable) {
			r.setCondition(st, v1.ConditionStalled, true, v1.ReasonNodeUnavailable, werr.Error())
		}
		return nil, werr
	}
	return werr, nil
}

// apply deploys the version the warm app runs again with the edited spec.env and waits. It
// moves no version and records no promotion: on success the known-good record takes the new
// env; on failure the version joins failedVersions (cleared by the next edit of the spec, so
// the same env is not retried until then or a forced reconcile) and, with rollback on, the
// same version goes back with the env it last converged with.
func (r *WarmCanonicalReconciler) apply(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	log := logr.FromContextOrDiscard(ctx)
	stack := o.wc.Spec.Stack
	// A forced retry starts afresh: the version is no longer failed until this apply says so.
	st.FailedVersions = slices.DeleteFunc(st.FailedVersions, func(v string) bool { return v == p.To })
	// Notifications and describe name the version a failure is about by this field.
	st.LastAttemptedVersion = p.To
	// Progressing, not Promoting: a crash mid-apply must not be resumed as a promotion; the
	// next reconcile still sees the edited env and applies it again (a no-op deploy if done).
	r.setReconciling(st, true, v1.ReasonProgressing, fmt.Sprintf("applying the edited spec.env to %s on stack %s", p.To, stack))
	if err := r.persist(o.name, o.saved, st); err != nil {
		return out, err
	}
	log.Info("Applying edited env to warm app", "stack", stack, "version", p.To)
	failed, err := r.deployAndWait(ctx, st, o, r.app(o), p.To, 0)
	if err != nil {
		return out, err
	}
	if failed == nil {
		st.KnownGoodVersion, st.DeployedVersion = p.To, p.To
		recordDataNodes(st, o.after)
		msg := fmt.Sprintf("applied the edited spec.env to %s", p.To)
		r.setReady(st, true, v1.ReasonApplied, msg)
		r.setReconciling(st, false, v1.ReasonApplied, msg)
		out.Result, out.Message = ResultApplied, msg
		log.Info("Applied edited env to warm app", "stack", stack, "version", p.To)
		r.pruneSecrets(ctx, stack)
		return out, r.recordKnownGood(o.name, p.To, o.wc.Spec.Env)
	}
	msg := fmt.Sprintf("%s with the edited spec.env did not converge on stack %s: %v", p.To, stack, failed)
	if err := r.failVersion(st, o, p.To, msg); err != nil {
		return out, err
	}
	log.Info("Apply failed", "stack", stack, "version", p.To, "error", failed.Error())
	if !o.wc.Spec.RollbackEnabled() {
		out.Result, out.Message = ResultFailed, msg
		return out, nil
	}
	return r.rollback(ctx, out, st, o, Plan{Action: ActionRollback, From: p.To, To: p.To}, msg)
}

// rollback deploys the known-good version back after a failed promotion, with the env it
// converged with; after a failed apply that is the same version with its previous env.
func (r *WarmCanonicalReconciler) rollback(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan, cause string) (Outcome, error) {
	stack := o.wc.Spec.Stack
	logr.FromContextOrDiscard(ctx).Info("Rolling back warm app", "stack", stack, "from", p.From, "to", p.To)
	app := r.app(o)
	app.Env = r.knownGoodEnv(o.name, p.To, app.Env)
	failed, err := r.deployAndWait(ctx, st, o, app, p.To, 0)
	if err != nil {
		return out, fmt.Errorf("roll back: %w", err)
	}
	if failed != nil {
		msg := fmt.Sprintf("%s; rollback to %s did not converge either: %v", cause, p.To, failed)
		r.setReady(st, false, v1.ReasonPromotionFailed, msg)
		out.Result, out.Message = ResultFailed, msg
		return out, nil
	}
	st.DeployedVersion = p.To
	recordDataNodes(st, o.after)
	msg := fmt.Sprintf("%s; rolled back to known-good %s", cause, p.To)
	if p.From == p.To {
		msg = fmt.Sprintf("%s; rolled back to the env %s last converged with", cause, p.To)
	}
	r.setReady(st, false, v1.ReasonPromotionFailed, msg)
	r.setReconciling(st, false, v1.ReasonRolledBack, msg)
	out.Result, out.Message = ResultRolledBack, msg
	return out, nil
}

// undeploy removes the services of a data-mode app; its volumes stay.
func (r *WarmCanonicalReconciler) undeploy(ctx context.Context, out Outcome, st *v1.WarmCanonicalStatus, o *observation, p Plan) (Outcome, error) {
	if err := r.Cluster.RemoveServices(ctx, o.wc.Spec.Stack); err != nil {
		return out, fmt.Errorf("remove services of stack %q: %w", o.wc.Spec.Stack, err)
	}
	st.DeployedVersion = ""
	r.setReady(st, true, v1.ReasonDataMode, p.Message)
	r.setReconciling(st, false, v1.ReasonDataMode, p.Message)
	out.Result, out.Message = ResultUndeployed, p.Message
	return out, nil
}

func (r *WarmCanonicalReconciler) app(o *observation) WarmApp {
	return WarmApp{Name: o.name, Stack: o.wc.Spec.Stack, Env: o.wc.Spec.Env, RecipeTest: o.rt, Secrets: o.wc.Spec.Secrets}
}

func (r *WarmCanonicalReconciler) setReady(st *v1.WarmCanonicalStatus, ok bool, reason, msg string) {
	r.setCondition(st, v1.ConditionReady, ok, reason, msg)
}

func (r *WarmCanonicalReconciler) setReconciling(st *v1.WarmCanonicalStatus, ok bool, reason, msg string) {
	r.setCondition(st, v1.ConditionReconciling, ok, reason, msg)
}

func (r *WarmCanonicalReconciler) setCondition(st *v1.WarmCanonicalStatus, t string, ok bool, reason, msg string) {
	s := v1.ConditionFalse
	if ok {
		s = v1.ConditionTrue
	}
	st.Conditions.Set(v1.Condition{Type: t, Status: s, Reason: reason, Message: msg}, r.now())
}

func cloneStatus(st v1.WarmCanonicalStatus) v1.WarmCanonicalStatus {
	var c v1.WarmCanonicalStatus
	b, _ := json.Marshal(st)
	_ = json.Unmarshal(b, &c)
	return c
}

func statusEqual(a, b v1.WarmCanonicalStatus) bool {
	return reflect.DeepEqual(cloneStatus(a), cloneStatus(b))
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// checkLocality fails a deploy that moved a stateful task to another node than the one
// holding its volumes (volumes are node-local: the task now runs on empty data). The stack as
// observed is kept in o.after.
func (r *WarmCanonicalReconciler) checkLocality(ctx context.Context, o *observation, stack string) error {
	after, err := r.Cluster.ObserveStack(ctx, stack)
	if err != nil {
		return fmt.Errorf("observe stack %s after the deploy: %w", stack, err)
	}
	o.after = after
	return r.dataAway(ctx, DataNodesOf(o.observed), after)
}

// nodeGone says, after a failed wait, whether a node that ran a task of the stack before the
// deploy cannot run tasks any more: a *LocalityError when it held a stateful service's data
// (no rollback can bring that back), else a *swarm.NodeDownError (an infrastructure failure:
// the promotion resumes once the node is back). nil when every such node is usable.
func (r *WarmCanonicalReconciler) nodeGone(ctx context.Context, o *observation) error {
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return nil
	}
	loc := &LocalityError{}
	var parts []string
	var down error
	for _, s := range o.observed.Services {
		for _, id := range s.Nodes {
			n, ok := nodes[id]
			if !ok || n.Usable() {
				continue
			}
			if len(s.Volumes) > 0 {
				loc.Unusable = append(loc.Unusable, n.Hostname)
				parts = append(parts, fmt.Sprintf("service %s with volume %s ran on node %s (%s), where its data is", s.Name, strings.Join(s.Volumes, ", "), n.Hostname, n.Why()))
			} else if down == nil {
				down = &swarm.NodeDownError{Node: n.Hostname, Stack: o.wc.Spec.Stack, State: n.Why()}
			}
		}
	}
	if len(parts) > 0 {
		loc.Message = "data locality: " + strings.Join(parts, "; ") + ", and it cannot run tasks any more"
		return loc
	}
	return down
}

// LocalityError is a stateful task away from its data. Unusable lists the nodes holding the
// data that Swarm cannot schedule on (drained, paused, down): no rollback can put it back.
type LocalityError struct {
	Message  string
	Unusable []string
}

func (e *LocalityError) Error() string { return e.Message }

// dataAway returns a *LocalityError naming every stateful service of st not running where its
// data is (data: service → node id): moved to another node, or running on none while the node
// holding its data cannot run tasks (a task merely starting is not away). It lists the nodes
// only when a service is not where its data is, so a healthy observation costs nothing more.
func (r *WarmCanonicalReconciler) dataAway(ctx context.Context, data map[string]string, st swarm.StackState) error {
	moves := LocalityMoves(data, st)
	if len(moves) == 0 {
		return nil
	}
	nodes, _ := r.Cluster.Nodes(ctx)
	name := func(id string) string {
		if n, ok := nodes[id]; ok && n.Hostname != "" {
			return n.Hostname
		}
		return id
	}
	e := &LocalityError{}
	var parts []string
	for _, m := range moves {
		if _, known := nodes[m.From]; !known && len(nodes) == 1 {
			// A swarm of one node that no longer knows the recorded one was initialised again
			// on the same machine (docker swarm leave; init): the volumes are where they were.
			continue
		}
		from := name(m.From)
		n, known := nodes[m.From]
		unusable := known && !n.Usable()
		if unusable {
			e.Unusable = append(e.Unusable, from)
			from += " (" + n.Why() + ")"
		}
		switch {
		case m.To != "":
			parts = append(parts, fmt.Sprintf("service %s with volume %s moved from node %s to node %s, where that volume is not", m.Service, strings.Join(m.Volumes, ", "), from, name(m.To)))
		case unusable:
			parts = append(parts, fmt.Sprintf("service %s with volume %s runs no task: its data is on node %s, which cannot run it", m.Service, strings.Join(m.Volumes, ", "), from))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	e.Message = fmt.Sprintf("data locality: %s (pin the service with a placement constraint)", strings.Join(parts, "; "))
	return e
}

// dataMoved says which stateful services of the warm app are not where their recorded data is,
// and what to do; "" when all are.
func (r *WarmCanonicalReconciler) dataMoved(ctx context.Context, name string, recorded map[string]string, st swarm.StackState) string {
	err := r.dataAway(ctx, recorded, st)
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%v; nothing is deployed over it (valid: run the task where its data is again, or move the data and accept the node it runs on with ccci-controller reconcile warmcanonical/%s --force)", err, name)
}

// recordDataNodes records the node of each stateful service's task of a converged stack.
func recordDataNodes(st *v1.WarmCanonicalStatus, state swarm.StackState) {
	for svc, node := range DataNodesOf(state) {
		if st.DataNodes == nil {
			st.DataNodes = map[string]string{}
		}
		st.DataNodes[svc] = node
	}
}

// soakPoll is how often the soak looks at the stack.
const soakPoll = time.Second

// soak watches a converged stack for d: every task must stay running and healthy (no task of
// the new spec may fail) on the node holding its data. The first observation that says
// otherwise fails the promotion.
func (r *WarmCanonicalReconciler) soak(ctx context.Context, o *observation, stack string, d time.Duration) error {
	deadline := time.Now().Add(d)
	t := time.NewTicker(soakPoll)
	defer t.Stop()
	baseline := -1 // tasks that failed before convergence (a first start waiting for its db)
	for {
		st, err := r.Cluster.ObserveStack(ctx, stack)
		if err != nil {
			return fmt.Errorf("observe stack %s during the soak: %w", stack, err)
		}
		if baseline < 0 {
			baseline = failures(st)
		}
		if err := r.dataAway(ctx, DataNodesOf(o.observed), st); err != nil {
			// Before the health check: a task moved off a drained node is unhealthy for a
			// moment, and that is the node's doing, not the version's.
			return err
		}
		if !st.Converged() || failures(st) > baseline {
			return fmt.Errorf("not healthy during the %s soak: %s", d, orNone(problemOf(st)+failedTasks(st)))
		}
		o.after = st
		if !time.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func failures(st swarm.StackState) int {
	n := 0
	for _, s := range st.Services {
		n += s.Failures
	}
	return n
}

func failedTasks(st swarm.StackState) string {
	for _, s := range st.Services {
		if s.Failures > 0 {
			msg := fmt.Sprintf("service %s: %d tasks failed", s.Name, s.Failures)
			if len(s.Errors) > 0 {
				msg += ": " + s.Errors[0]
			}
			return msg
		}
	}
	return ""
}

// checkDrift compares a converged warm app with what was applied (step 12): a hand edit sets
// Drifted=True naming the changed fields per service; with spec.drift: correct the applied
// spec is deployed again (an update of the drifted services only) and waited for. An error
// reading the drift leaves the condition as it was: drift is a report, never a reason to fail
// a converged app.
func (r *WarmCanonicalReconciler) checkDrift(ctx context.Context, out *Outcome, st *v1.WarmCanonicalStatus, o *observation, version string) {
	log := logr.FromContextOrDiscard(ctx)
	// Any write to a service bumps its version index: while the indexes are the ones last
	// checked, nothing can have drifted, and a no-op sweep stays at its two Engine API calls.
	sig := indexSignature(o.observed)
	if prev, ok := r.driftChecked.Load(o.name); ok && prev.(string) == sig {
		return
	}
	drift, err := r.Cluster.Drift(ctx, r.app(o), version)
	if err != nil {
		// Not retried until a service changes: a check that cannot run must not cost every
		// sweep a checkout and a conversion per object.
		r.driftChecked.Store(o.name, sig)
		log.Info("Drift check failed", "stack", o.wc.Spec.Stack, "error", err.Error())
		return
	}
	if len(drift) == 0 {
		r.driftChecked.Store(o.name, sig)
		r.setCondition(st, v1.ConditionDrifted, false, v1.ReasonNoDrift, "the live stack runs as applied")
		return
	}
	var parts []string
	for _, d := range drift {
		parts = append(parts, d.String())
	}
	msg := "live services differ from the applied spec: " + strings.Join(parts, "; ")
	if o.wc.Spec.Drift != v1.DriftCorrect {
		r.driftChecked.Store(o.name, sig)
		r.setCondition(st, v1.ConditionDrifted, true, v1.ReasonSpecDrift, msg)
		return
	}
	log.Info("Correcting drift of warm app", "stack", o.wc.Spec.Stack, "version", version)
	app := r.app(o)
	app.CorrectDrift = true
	if err := r.Cluster.Deploy(ctx, app, version); err != nil {
		r.setCondition(st, v1.ConditionDrifted, true, v1.ReasonSpecDrift, msg+"; correcting it failed: "+err.Error())
		return
	}
	if err := r.Cluster.WaitConverged(ctx, o.wc.Spec.Stack, o.wc.Spec.Timeout.Duration); err != nil {
		r.setCondition(st, v1.ConditionDrifted, true, v1.ReasonSpecDrift, msg+"; the corrected stack did not converge: "+err.Error())
		return
	}
	r.setCondition(st, v1.ConditionDrifted, false, v1.ReasonNoDrift, "corrected: "+strings.Join(parts, "; "))
	out.Message = "corrected drift: " + strings.Join(parts, "; ")
}

// indexSignature is the services of a stack with their version indexes, as one string.
func indexSignature(st swarm.StackState) string {
	var b strings.Builder
	for _, s := range st.Services {
		fmt.Fprintf(&b, "%s@%d;", s.Name, s.VersionIndex)
	}
	return b.String()
}
