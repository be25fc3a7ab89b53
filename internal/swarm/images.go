package swarm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
)

// Image is what one image reference of a compose file named when it was resolved.
type Image struct {
	// Ref is the reference as the compose file writes it, such as nginx:1.27.
	Ref string
	// Digest is the manifest digest the registry answered (sha256:…); empty for a local
	// image.
	Digest string
	// ID is the local image ID of an image no registry knows (built on the host); empty
	// otherwise.
	ID string
}

// Local reports whether no registry knows the image: it runs by tag, as built on the host.
func (i Image) Local() bool { return i.Digest == "" }

// Pinned is the reference a deploy sends: name:tag@sha256:… for a registry's image, so every
// node pulls the same bytes and Swarm resolves nothing; the reference as written for a local
// image.
func (i Image) Pinned() string {
	if i.Digest == "" {
		return i.Ref
	}
	return PinnedRef(i.Ref, i.Digest)
}

// PinnedRef is ref (any digest it had dropped) with digest appended: name:tag@sha256:….
func PinnedRef(ref, digest string) string {
	base, _, _ := strings.Cut(ref, "@")
	return base + "@" + digest
}

// ServiceImage is one service's image of a stack, resolved.
type ServiceImage struct {
	// Service is the compose service key, such as app.
	Service string
	Image
}

// Images resolves image references through the Engine's distribution endpoint (what `docker
// service create --resolve-image always` asks), each reference at most once for the life of
// the value: a run keeps one, so its stacks deploy the same bytes; a controller pass keeps
// one, so a sweep asks the registry once per image. It is safe for concurrent use.
type Images struct {
	c  *Client
	mu sync.Mutex
	m  map[string]*imageEntry

	// The engine's images, listed once on first use (one call for any number of references).
	listOnce sync.Once
	local    map[string]localImage // familiar name:tag → what the engine has under it
	listErr  error
}

// localImage is an image of the engine, as its listing shows it.
type localImage struct {
	id          string
	repoDigests []string
}

type imageEntry struct {
	done chan struct{}
	img  Image
	err  error
}

// NewImages returns an empty resolution cache on c.
func (c *Client) NewImages() *Images { return &Images{c: c, m: map[string]*imageEntry{}} }

// Resolve returns what ref names now, asking at most once per ref. A reference that carries
// a digest already is taken as written. An image present on the engine that no registry gave
// (no repo digest of its repository: built or loaded on the host) is local and recorded by its
// ID. Anything else is asked of its registry with the credentials of the Docker config; a
// failure is a *RegistryError.
func (m *Images) Resolve(ctx context.Context, ref string) (Image, error) {
	m.mu.Lock()
	e, ok := m.m[ref]
	if !ok {
		e = &imageEntry{done: make(chan struct{})}
		m.m[ref] = e
	}
	m.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			return e.img, e.err
		case <-ctx.Done():
			return Image{}, ctx.Err()
		}
	}
	e.img, e.err = m.resolve(ctx, ref)
	close(e.done)
	return e.img, e.err
}

// Refs resolves each of refs, side by side, into ref → Image; a reference that fails is left
// out and its error joined into the error returned.
func (m *Images) Refs(ctx context.Context, refs []string) (map[string]Image, error) {
	out := make(map[string]Image, len(refs))
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := m.Resolve(ctx, ref)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[ref] = img
		}()
	}
	wg.Wait()
	return out, joinErrors(errs)
}

// Stack resolves the image of every service of st, side by side, in the order of the
// services' keys. Every failure is returned (errors.Join), each naming its service.
func (m *Images) Stack(ctx context.Context, st *Stack) ([]ServiceImage, error) {
	out := make([]ServiceImage, len(st.Config.Services))
	errs := make([]error, len(st.Config.Services))
	var wg sync.WaitGroup
	for i, svc := range st.Config.Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := m.Resolve(ctx, svc.Image)
			out[i] = ServiceImage{Service: svc.Name, Image: img}
			if err != nil {
				errs[i] = fmt.Errorf("service %s: %w", svc.Name, err)
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b ServiceImage) int { return strings.Compare(a.Service, b.Service) })
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return out, joinErrors(failed)
}

// ResolveImages resolves the image of every service of st through cache; see Images.Stack.
func (c *Client) ResolveImages(ctx context.Context, cache *Images, st *Stack) ([]ServiceImage, error) {
	return cache.Stack(ctx, st)
}

// resolve is one look-up of Resolve.
func (m *Images) resolve(ctx context.Context, ref string) (Image, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: %w", ref, err)
	}
	if d, ok := named.(reference.Digested); ok {
		return Image{Ref: ref, Digest: d.Digest().String()}, nil
	}
	if id, local := m.localImage(ctx, named); local {
		return Image{Ref: ref, ID: id}, nil
	}
	registry := reference.Domain(named)
	auth, err := m.c.auth.encoded(registry)
	if err != nil {
		return Image{}, &RegistryError{Kind: RegistryAuthFailed, Registry: registry, Image: ref, Err: err}
	}
	info, err := m.c.docker.DistributionInspect(ctx, ref, auth)
	if err != nil {
		return Image{}, classifyRegistry(registry, ref, err)
	}
	return Image{Ref: ref, Digest: info.Descriptor.Digest.String()}, nil
}

// localImage reports whether named is an image of the engine that no registry gave it, with
// its ID. An image pulled from (or pushed to) its registry has a repo digest of its repository
// and is resolved there, since the tag may have moved since. The engine's images are listed
// once per Images.
func (m *Images) localImage(ctx context.Context, named reference.Named) (string, bool) {
	m.listOnce.Do(func() {
		list, err := m.c.docker.ImageList(ctx, image.ListOptions{})
		if err != nil {
			m.listErr = err
			return
		}
		m.local = map[string]localImage{}
		for _, img := range list {
			for _, tag := range img.RepoTags {
				m.local[tag] = localImage{id: img.ID, repoDigests: img.RepoDigests}
			}
		}
	})
	if m.listErr != nil {
		// Unreadable: only a registry can say what the tag names.
		return "", false
	}
	img, ok := m.local[reference.FamiliarString(reference.TagNameOnly(named))]
	if !ok {
		return "", false
	}
	for _, rd := range img.repoDigests {
		if n, err := reference.ParseNormalizedNamed(rd); err == nil && n.Name() == named.Name() {
			return "", false
		}
	}
	return img.id, true
}

// joinErrors is errors.Join that keeps a lone error as it is, so errors.As and messages read
// as the error itself.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &multiError{errs: errs}
}

type multiError struct{ errs []error }

func (e *multiError) Error() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (e *multiError) Unwrap() []error { return e.errs }
