package swarm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// NodeImages is what the engines of the swarm held before a test run's first deploy: the IDs
// of their images, per engine. RemoveRunImages compares against it, so that only an image the
// run brought onto a node is ever removed from it.
type NodeImages struct {
	ids map[string]map[string]bool // engine name → image ID → present
}

// RemovedImage is one image RemoveRunImages removed from one node.
type RemovedImage struct {
	// Node is the hostname of the node (its --node-endpoint), or "" for the engine DOCKER_HOST
	// names.
	Node string
	// ID is the image ID; Refs its references (name:tag, name@sha256:…) that went with it.
	ID   string
	Refs []string
	// Bytes is the disk space freed: the image's size less what it shares with images that
	// stay. An engine older than API 1.42 does not report shared sizes: the whole size is
	// counted when every layer of the image went with it, nothing when some stayed.
	Bytes int64
}

// namedEngine is an engine and the node it serves ("" for DOCKER_HOST's).
type namedEngine struct {
	node string
	cl   *client.Client
}

// namedEngines returns each node's engine, by hostname in order, then DOCKER_HOST's: that one
// may be a node's too, which is harmless since each is read afresh when its turn comes.
func (c *Client) namedEngines() []namedEngine {
	var out []namedEngine
	if c.nodes != nil {
		for _, node := range sortedKeys(c.nodes.clients) {
			out = append(out, namedEngine{node: node, cl: c.nodes.clients[node]})
		}
	}
	return append(out, namedEngine{cl: c.docker})
}

// SnapshotImages lists the images of every engine (one call each), for RemoveRunImages.
func (c *Client) SnapshotImages(ctx context.Context) (*NodeImages, error) {
	snap := &NodeImages{ids: map[string]map[string]bool{}}
	for _, e := range c.namedEngines() {
		list, err := e.cl.ImageList(ctx, image.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list images of %s: %w", engineName(e.node), err)
		}
		ids := map[string]bool{}
		for _, img := range list {
			ids[img.ID] = true
		}
		snap.ids[e.node] = ids
	}
	return snap, nil
}

// RemoveRunImages removes, from every engine in before, the images a finished run brought
// there: absent from that engine in before, with every reference naming a repository of refs
// (the run's image references), used by no container of that engine in any state, and named
// by no service of the swarm (a warm app, someone else's stack, a task yet to be started
// there). Everything else stays: what was there before the run, the warm apps' images, images
// someone else pulled or tagged. It returns what it removed; an engine that fails is skipped
// and its error joined into the error returned.
func (c *Client) RemoveRunImages(ctx context.Context, before *NodeImages, refs []string) ([]RemovedImage, error) {
	repos := map[string]bool{}
	for _, ref := range refs {
		if n, err := reference.ParseNormalizedNamed(ref); err == nil {
			repos[n.Name()] = true
		}
	}
	if before == nil || len(repos) == 0 {
		return nil, nil
	}
	services, err := c.docker.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	named := serviceImageRefs(services)
	var (
		out  []RemovedImage
		errs []error
	)
	for _, e := range c.namedEngines() {
		had, ok := before.ids[e.node]
		if !ok {
			continue
		}
		removed, err := removeEngineImages(ctx, e, had, repos, named)
		out = append(out, removed...)
		if err != nil {
			errs = append(errs, fmt.Errorf("remove test images of %s: %w", engineName(e.node), err))
		}
	}
	return out, errors.Join(errs...)
}

// serviceImageRefs are the image references the services' tasks pull: name@digest for a
// pinned image (its tag says nothing then: the tag may name other bytes by now), else
// name:tag.
func serviceImageRefs(services []swarm.Service) map[string]bool {
	out := map[string]bool{}
	for _, s := range services {
		cs := s.Spec.TaskTemplate.ContainerSpec
		if cs == nil {
			continue
		}
		n, err := reference.ParseNormalizedNamed(cs.Image)
		if err != nil {
			continue
		}
		if d, ok := n.(reference.Digested); ok {
			out[n.Name()+"@"+d.Digest().String()] = true
			continue
		}
		out[reference.TagNameOnly(n).String()] = true
	}
	return out
}

// removeEngineImages is RemoveRunImages on one engine.
func removeEngineImages(ctx context.Context, e namedEngine, had, repos, named map[string]bool) ([]RemovedImage, error) {
	list, err := e.cl.ImageList(ctx, image.ListOptions{SharedSize: true})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var candidates []image.Summary
	for _, img := range list {
		if !had[img.ID] && broughtBy(img, repos, named) {
			candidates = append(candidates, img)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	ctrs, err := e.cl.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	used := map[string]bool{}
	for _, ctr := range ctrs {
		used[ctr.ImageID] = true
	}
	var (
		out  []RemovedImage
		errs []error
	)
	for _, img := range candidates {
		if used[img.ID] {
			continue
		}
		r, err := removeImage(ctx, e.cl, img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r != nil {
			r.Node = e.node
			out = append(out, *r)
		}
	}
	return out, errors.Join(errs...)
}

// broughtBy reports whether every reference of img names one of repos and none is named by a
// service: an image only the run's pulls can have made, and that nothing deployed needs.
func broughtBy(img image.Summary, repos, named map[string]bool) bool {
	refs := imageRefs(img)
	if len(refs) == 0 {
		return false // dangling: nothing says whose it is
	}
	for _, ref := range refs {
		n, err := reference.ParseNormalizedNamed(ref)
		if err != nil || !repos[n.Name()] || named[n.String()] {
			return false
		}
	}
	return true
}

// imageRefs are img's tag and digest references, without the engine's "<none>" placeholders.
func imageRefs(img image.Summary) []string {
	var out []string
	for _, ref := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		if ref != "<none>:<none>" && ref != "<none>@<none>" {
			out = append(out, ref)
		}
	}
	return out
}

// removeImage removes img by each of its references, never forcing: the engine refuses the
// last one while a container uses the image (one created since the list), and the image then
// stays. It returns nil when the image stayed.
func removeImage(ctx context.Context, cl *client.Client, img image.Summary) (*RemovedImage, error) {
	inspect, err := cl.ImageInspect(ctx, img.ID)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", img.ID, err)
	}
	refs := imageRefs(img)
	deleted, layersDeleted := false, 0
	for _, ref := range refs {
		resp, err := cl.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
		switch {
		case errdefs.IsNotFound(err):
			continue // went with an earlier reference (a tag takes its digests along)
		case errdefs.IsConflict(err) || (err != nil && isInUse(err)):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("remove image %s: %w", ref, err)
		}
		for _, r := range resp {
			switch {
			case r.Deleted == img.ID:
				deleted = true
			case r.Deleted != "":
				layersDeleted++
			}
		}
	}
	if !deleted {
		return nil, nil
	}
	return &RemovedImage{ID: img.ID, Refs: refs, Bytes: freedBytes(img, len(inspect.RootFS.Layers), layersDeleted)}, nil
}

// freedBytes is the space removing img freed: its size less the shared part when the engine
// reports it (API 1.42+), else its whole size if every layer went with it and nothing if some
// stayed, since an older engine gives no layer's size.
func freedBytes(img image.Summary, layers, layersDeleted int) int64 {
	switch {
	case img.SharedSize >= 0:
		return max(img.Size-img.SharedSize, 0)
	case layersDeleted >= layers:
		return img.Size
	}
	return 0
}

// engineName names an engine in messages.
func engineName(node string) string {
	if node == "" {
		return "the engine of DOCKER_HOST"
	}
	return "node " + node
}
