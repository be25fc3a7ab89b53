package tiers

import (
	"context"
	"fmt"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// resolveImages resolves the image of every service of every stack of the run (candidate,
// upgrade base, required apps) once, before the first deploy, records them in the run and
// keeps what every deploy of the run pins. A registry that fails (down, slow, rate limiting,
// refusing the credentials) aborts the run before anything is deployed, naming registry and
// image. A tag of the candidate that its registry does not have is the recipe's fault: the
// install tier fails with it, naming service, image and tag, without deploying.
func (x *execution) resolveImages(ctx context.Context, cand *swarm.Stack) error {
	if !x.deploys() {
		return nil // a lint-only run asks no registry
	}
	images := x.r.swarm.NewImages()
	x.pins = map[string]string{}
	type stackOf struct {
		role   v1.ImageRole
		prefix string
		st     *swarm.Stack
	}
	stacks := []stackOf{{role: v1.ImageCandidate, st: cand}}
	if x.base != nil {
		// A base that does not load fails the upgrade tier, where it is deployed.
		if st, err := x.load(x.base, x.stacks[StackUpgrade]); err == nil {
			stacks = append(stacks, stackOf{role: v1.ImageBase, st: st})
		}
	}
	for _, rq := range x.required {
		if rq.loaded != nil {
			stacks = append(stacks, stackOf{role: v1.ImageRequired, prefix: rq.Name + "/", st: rq.loaded})
		}
	}
	for _, s := range stacks {
		if s.st == nil {
			continue
		}
		resolved, err := x.r.swarm.ResolveImages(ctx, images, s.st)
		for _, img := range resolved {
			if img.Ref == "" {
				continue // its resolution failed; err says why
			}
			x.rec.Images = append(x.rec.Images, v1.RunImage{
				Role: s.role, Service: s.prefix + img.Service, Image: img.Ref, Digest: img.Digest, ID: img.ID,
			})
			x.pins[img.Ref] = img.Pinned()
			x.runLog.Printf("%s image of service %s%s: %s", s.role, s.prefix, img.Service, describeImage(img.Image))
		}
		switch {
		case err == nil:
		case swarm.IsRegistryFailure(err):
			return fmt.Errorf("resolve the images of the %s: %w", s.role, err)
		case s.role == v1.ImageCandidate && swarm.IsImageNotFound(err):
			x.missingImage = err
			x.runLog.Printf("the candidate names an image its registry does not have: %v", err)
		default:
			return fmt.Errorf("resolve the images of the %s: %w", s.role, err)
		}
	}
	return nil
}

// deploys reports whether the run deploys anything: a tier other than lint, or a required app.
func (x *execution) deploys() bool {
	for _, s := range x.steps {
		if s.Action == ActionRun && s.Tier.Name != v1.TierLint {
			return true
		}
	}
	return len(x.requiredStacks()) > 0
}

// describeImage says what an image resolved to, for the run log.
func describeImage(img swarm.Image) string {
	if img.Local() {
		return fmt.Sprintf("%s, local image %s (no registry knows it: deployed by tag)", img.Ref, img.ID)
	}
	return img.Pinned()
}

// lintLocalImages warns about candidate images that no registry knows: they run by tag, as
// built on this host, and another host (or node) may run something else under that name.
func lintLocalImages(images []v1.RunImage) []string {
	var out []string
	for _, img := range images {
		if img.Role == v1.ImageCandidate && img.Digest == "" {
			out = append(out, fmt.Sprintf("service %s: image %s is not in any registry (local image %s): it is deployed by tag, unpinned", img.Service, img.Image, img.ID))
		}
	}
	return out
}
