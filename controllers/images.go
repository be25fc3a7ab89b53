package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/go-logr/logr"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// ImagesMoved compares the candidate images a passed run tested with what their references
// name now (reference → digest, or local image ID for an image built on the host) and
// describes the first, in reference order, that names other bytes:
// "image <ref> moved from <old> to <new> since it was tested". It returns "" when none moved;
// a reference now does not list (its resolution failed this pass) is not judged.
func ImagesMoved(tested []v1.RunImage, now map[string]string) string {
	imgs := slices.Clone(tested)
	slices.SortFunc(imgs, func(a, b v1.RunImage) int { return strings.Compare(a.Image, b.Image) })
	for _, img := range imgs {
		if img.Role != v1.ImageCandidate {
			continue
		}
		cur, ok := now[img.Image]
		if !ok || cur == "" || img.Identity() == "" || cur == img.Identity() {
			continue
		}
		return fmt.Sprintf("image %s moved from %s to %s since it was tested", img.Image, img.Identity(), cur)
	}
	return ""
}

// imagesChanged reports whether a warm app converged at the desired version must go through
// the gate again for its images: a tag of the passed run moved (spec.images: follow), or a
// run passed with other digests than the ones the app was promoted with (the new run of a
// moved tag, to be promoted).
func imagesChanged(in PlanInput) bool {
	g := in.Gate
	if g.ImagesMoved {
		return true
	}
	return g.State == GatePassed && len(g.Images) > 0 && !maps.Equal(g.Images, in.Status.DeployedImages)
}

// currentImages resolves, once per pass, the candidate images of the newest passed run of
// version (at commit, under this RecipeTest spec): reference → digest or local ID now. It
// returns nil when there is no such run or it recorded no image; a registry that cannot answer
// leaves its references out (nothing is judged moved on a failed look-up).
func (r *WarmCanonicalReconciler) currentImages(ctx context.Context, runs []v1.Run, rt *v1.RecipeTest, version, commit string) map[string]string {
	var refs []string
	for _, run := range runs {
		if run.Verdict != v1.VerdictPassed || run.Version != version || run.SpecHash != rt.SpecHash() || (commit != "" && run.Commit != commit) {
			continue
		}
		for _, img := range run.Images {
			if img.Role == v1.ImageCandidate && !slices.Contains(refs, img.Image) {
				refs = append(refs, img.Image)
			}
		}
		break
	}
	if len(refs) == 0 {
		return nil
	}
	now, err := r.Cluster.ResolveImages(ctx, refs)
	if err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("Could not resolve the tested images again", "version", version, "error", err.Error())
	}
	return now
}
