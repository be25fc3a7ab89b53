package tiers

import (
	"context"
	"slices"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// snapshotImages notes, before the run's first deploy, which images every node holds, so that
// the run's teardown removes only images the run itself brought (removeImages). Without it no
// image is removed: with --keep-test-images, for a run that deploys nothing, and when an
// engine does not answer (the run goes on: its images are only left on disk).
func (x *execution) snapshotImages(ctx context.Context) {
	if x.r.opts.KeepTestImages || !x.deploys() {
		return
	}
	snap, err := x.r.swarm.SnapshotImages(ctx)
	if err != nil {
		x.runLog.Printf("the nodes' images could not be listed, so the images this run pulls stay afterwards: %v", err)
		return
	}
	x.imagesBefore = snap
}

// removeImages removes, once the run's stacks are gone, the images the run pulled onto each
// node that no container uses and no service names; images of warm apps, images that were
// there before the run and a passed promotion run's candidate images stay. A failure leaves images on disk and is only logged: the verdict
// is known by now, and disk space is no reason to retry.
func (x *execution) removeImages(ctx context.Context) {
	if x.imagesBefore == nil {
		return
	}
	// A passed promotion run's candidate is what the warm app deploys next, while this
	// teardown runs: its images stay rather than go and be pulled again a moment later.
	promoting := x.rec.Trigger == v1.TriggerPromotion && x.rec.Verdict == v1.VerdictPassed
	var refs []string
	for _, img := range x.rec.Images {
		if (promoting && img.Role == v1.ImageCandidate) || slices.Contains(refs, img.Image) {
			continue
		}
		refs = append(refs, img.Image)
	}
	ctx, cancel := context.WithTimeout(ctx, x.r.opts.TeardownTimeout)
	defer cancel()
	removed, err := x.r.swarm.RemoveRunImages(ctx, x.imagesBefore, refs)
	var bytes int64
	for _, img := range removed {
		bytes += img.Bytes
		node := img.Node
		if node == "" {
			node = "DOCKER_HOST's engine"
		}
		x.runLog.Printf("removed image %s (%v) from %s: %d bytes freed", img.ID, img.Refs, node, img.Bytes)
	}
	if len(removed) > 0 {
		x.log.Info("Removed test images", "images", len(removed), "bytes", bytes)
		if f := x.r.opts.ImagesRemoved; f != nil {
			f(len(removed), bytes)
		}
	}
	if err != nil {
		x.runLog.Printf("some images of the run stay on disk: %v", err)
		x.log.Error(err, "Removing the images of a test run failed")
	}
}
