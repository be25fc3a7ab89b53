package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// KindConverged is the store kind of the record of what each warm app was last found converged
// with.
const KindConverged = "Converged"

// ConvergedRecord is what a warm app was last found converged with: its live services matched
// what a deploy of Version at Commit, from these specs and this env, would send. While every
// field still holds (Unchanged), a reconcile knows the app is converged without reading the
// recipe: a one-shot sweep over 2,000 converged apps then checks out nothing and converts
// nothing, where each of them cost a git archive and a compose conversion.
type ConvergedRecord struct {
	// Version is the version the services run.
	Version string `json:"version"`
	// Commit is the commit the version's tag named when the services were compared.
	Commit string `json:"commit"`
	// SpecHash covers the WarmCanonical's and the RecipeTest's specs (see SpecHashOf).
	SpecHash string `json:"specHash"`
	// EnvDigest is a digest of the WarmCanonical's spec.env (see EnvDigest); values are never
	// stored here, they may be credentials.
	EnvDigest string `json:"envDigest"`
	// Images are the digests the services were compared with (status.deployedImages: image
	// reference → digest the app was promoted with): the same version pinned to other bytes
	// is another deploy.
	Images map[string]string `json:"images,omitempty"`
	// Services are the stack's services with their version indexes: Swarm bumps a service's
	// index on every write, so the same indexes mean nobody changed a service since.
	Services string `json:"services"`
	// Compared is false when the comparison with the recipe could not be made (an app
	// deployed by hand may lack the secrets the recipe declares): like a match, it is not
	// tried again until an input changes, as the daemon already did in memory.
	Compared bool `json:"compared"`
}

// Unchanged reports whether a warm app recorded converged (rec, nil when there is no record) is
// still converged given what is desired and observed now (now): every field is the same.
// Otherwise it names the first input that differs, for the log.
func Unchanged(rec *ConvergedRecord, now ConvergedRecord) (bool, string) {
	switch {
	case rec == nil:
		return false, "no record"
	case rec.Version != now.Version:
		return false, "version"
	case rec.Commit != now.Commit || now.Commit == "":
		return false, "commit"
	case rec.SpecHash != now.SpecHash:
		return false, "spec"
	case rec.EnvDigest != now.EnvDigest:
		return false, "env"
	case !maps.Equal(rec.Images, now.Images):
		return false, "images"
	case rec.Services != now.Services || now.Services == "":
		return false, "services"
	}
	return true, ""
}

// SpecHashOf is the SpecHash of a record: both specs shape what a deploy sends.
func SpecHashOf(wc *v1.WarmCanonical, rt *v1.RecipeTest) string {
	return wc.SpecHash() + "/" + rt.SpecHash()
}

// EnvDigest is a hex sha256 of env, independent of map order.
func EnvDigest(env map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(h, "%d:%s=%d:%s\n", len(k), k, len(env[k]), env[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// convergedNow is the record the warm app of o would have now, at version and commit.
func convergedNow(o *observation, version, commit string) ConvergedRecord {
	return ConvergedRecord{Version: version, Commit: commit, SpecHash: SpecHashOf(o.wc, o.rt),
		EnvDigest: EnvDigest(o.wc.Spec.Env), Images: maps.Clone(o.in.Status.DeployedImages), Services: indexSignature(o.observed)}
}

// recordedConverged returns the record in the state directory when it says the warm app of o
// runs as it did when recorded. An unreadable record is no record: the recipe is read again.
func (r *WarmCanonicalReconciler) recordedConverged(o *observation, now ConvergedRecord) (ConvergedRecord, bool) {
	var rec ConvergedRecord
	found, err := r.Store.Get(KindConverged, o.name, &rec)
	if err != nil || !found {
		return rec, false
	}
	ok, _ := Unchanged(&rec, now)
	return rec, ok
}

// recordConverged writes the record of a warm app found converged; a failed write only costs
// the next process a comparison, so it is logged, not returned.
func (r *WarmCanonicalReconciler) recordConverged(ctx context.Context, o *observation, now ConvergedRecord) {
	if err := r.Store.Put(KindConverged, o.name, now); err != nil {
		logr.FromContextOrDiscard(ctx).Info("Could not record a converged warm app", "stack", o.wc.Spec.Stack, "error", err.Error())
	}
}
