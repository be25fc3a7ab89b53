package tiers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// fakeSwarm stands in for a Docker daemon in unit tests of the run's orchestration: stacks
// remember the version deployed, and each stack keeps a file system (path → content) that
// copies read and write; removing a stack with volumes forgets its files.
type fakeSwarm struct {
	mu        sync.Mutex
	stacks    map[string]string            // stack → version deployed
	files     map[string]map[string]string // stack → container path → content
	deploys   []string                     // "stack@version"
	removed   []string
	unhealthy map[string]bool              // version → WaitConverged fails
	hang      map[string]bool              // version → WaitConverged blocks until ctx ends
	labelled  []string                     // stacks RunStacks returns, each as a run of its own
	engineCut bool                         // WaitConverged loses the connection to the engine
	imageErrs map[string]error             // image reference → its resolution's error
	pinned    map[string]map[string]string // stack → DeployOptions.Images of its last deploy
	jobs      []swarm.Job                  // RunJob's jobs, Files read into jobFiles
	jobFiles  []string                     // names of the files each job was given
	jobResult swarm.JobResult              // what RunJob answers; State "" means complete
	// snapshots counts SnapshotImages, early those made before any deploy; cleanups holds the
	// refs of each RemoveRunImages, stacksLeft the stacks deployed and not removed then.
	snapshots, early int
	cleanups         [][]string
	stacksLeft       []int
}

func newFakeSwarm() *fakeSwarm {
	return &fakeSwarm{stacks: map[string]string{}, files: map[string]map[string]string{}, unhealthy: map[string]bool{}, hang: map[string]bool{}}
}

func (f *fakeSwarm) Deploy(ctx context.Context, s *swarm.Stack, opts swarm.DeployOptions) (swarm.DeployResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stacks[s.Name] = opts.Version
	if f.files[s.Name] == nil {
		f.files[s.Name] = map[string]string{"/data/state": "app state"}
	}
	f.deploys = append(f.deploys, s.Name+"@"+opts.Version)
	if f.pinned == nil {
		f.pinned = map[string]map[string]string{}
	}
	f.pinned[s.Name] = opts.Images
	return swarm.DeployResult{Created: []string{s.Name + "_app"}}, nil
}

func (f *fakeSwarm) WaitConverged(ctx context.Context, stack string, timeout time.Duration) error {
	f.mu.Lock()
	v := f.stacks[stack]
	f.mu.Unlock()
	if f.hang[v] {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.engineCut {
		return fmt.Errorf("observe stack %s: read response: %w", stack, io.ErrUnexpectedEOF)
	}
	if f.unhealthy[v] {
		return fmt.Errorf("service %s_app: task failed: unhealthy container (healthcheck failed)", stack)
	}
	return nil
}

func (f *fakeSwarm) ObserveStack(ctx context.Context, name string) (swarm.StackState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.stacks[name]
	if !ok {
		return swarm.StackState{Name: name}, nil
	}
	return swarm.StackState{Name: name, Version: v, Services: []swarm.ServiceState{{Name: name + "_app", Desired: 1, Running: 1, Healthy: 1}}}, nil
}

func (f *fakeSwarm) Exec(ctx context.Context, stack, service string, cmd []string, env ...string) (swarm.ExecResult, error) {
	return swarm.ExecResult{}, nil
}

// HasFile knows the stack's files and directories, and no shell: the sample image is scratch.
func (f *fakeSwarm) HasFile(ctx context.Context, stack, service, p string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name := range f.files[stack] {
		if name == p || strings.HasPrefix(name, p+"/") {
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeSwarm) RemoveData(ctx context.Context, stack string) error {
	return f.Remove(ctx, stack, true)
}

func (f *fakeSwarm) CopyFrom(ctx context.Context, stack, service, p string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	found := false
	for name, content := range f.files[stack] {
		if name != p && !strings.HasPrefix(name, p+"/") {
			continue
		}
		found = true
		rel := path.Join(path.Base(p), strings.TrimPrefix(name, p))
		tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
	}
	tw.Close()
	if !found {
		return nil, fmt.Errorf("no such file or directory: %s", p)
	}
	return io.NopCloser(&buf), nil
}

func (f *fakeSwarm) CopyTo(ctx context.Context, stack, service, dst string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		data, _ := io.ReadAll(tr)
		if hdr.Typeflag == tar.TypeReg {
			f.mu.Lock()
			f.files[stack][path.Join(dst, hdr.Name)] = string(data)
			f.mu.Unlock()
		}
	}
}

func (f *fakeSwarm) Remove(ctx context.Context, stack string, withVolumes bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.stacks, stack)
	if withVolumes {
		delete(f.files, stack)
	}
	f.removed = append(f.removed, stack)
	return nil
}

func (f *fakeSwarm) RunStacks(context.Context, map[string]string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range f.labelled {
		out[s] = []string{s}
	}
	return out, nil
}

func (f *fakeSwarm) StackNetworks(context.Context, string) ([]string, error) { return nil, nil }

func (f *fakeSwarm) NewImages() *swarm.Images { return nil }

// RunJob records the job and the names in its files, and hands its Output a tar of
// artifacts/result.txt, as the Engine's archive endpoint would.
func (f *fakeSwarm) RunJob(_ context.Context, j swarm.Job) (swarm.JobResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tr := tar.NewReader(j.Files)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return swarm.JobResult{}, err
		}
		f.jobFiles = append(f.jobFiles, hdr.Name)
	}
	j.Files = nil
	f.jobs = append(f.jobs, j)
	res := f.jobResult
	if res.State == "" {
		res = swarm.JobResult{State: "complete", Node: "fake"}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "artifacts/", Mode: 0o1777})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/result.txt", Mode: 0o644, Size: 3})
	tw.Write([]byte("ok\n"))
	tw.Close()
	return res, j.Output(&buf)
}

// ResolveImages answers a digest derived from each reference, or the error imageErrs has for it.
func (f *fakeSwarm) ResolveImages(_ context.Context, _ *swarm.Images, st *swarm.Stack) ([]swarm.ServiceImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []swarm.ServiceImage
	var errs []error
	for _, svc := range st.Config.Services {
		if err := f.imageErrs[svc.Image]; err != nil {
			out = append(out, swarm.ServiceImage{Service: svc.Name})
			errs = append(errs, fmt.Errorf("service %s: %w", svc.Name, err))
			continue
		}
		sum := sha256.Sum256([]byte(svc.Image))
		out = append(out, swarm.ServiceImage{Service: svc.Name, Image: swarm.Image{Ref: svc.Image, Digest: "sha256:" + hex.EncodeToString(sum[:])}})
	}
	return out, errors.Join(errs...)
}

// treeSource serves the sample recipe's versioned trees from config/samples as checkouts, so
// unit tests need no git.
type treeSource struct{}

var sampleTags = fixtures.SampleRecipeTags

func (treeSource) Resolve(ctx context.Context, ref string, pr int) (string, error) {
	for _, t := range sampleTags {
		if t == ref {
			return "commit-" + ref, nil
		}
	}
	return "", fmt.Errorf("unknown ref %q", ref)
}

func (treeSource) Checkout(ctx context.Context, commit string) (*recipe.Checkout, error) {
	tag := strings.TrimPrefix(commit, "commit-")
	return &recipe.Checkout{Dir: filepath.Join(fixtures.RepoRoot(), "config", "sample-recipe", tag), Commit: commit}, nil
}

func (treeSource) Versions(ctx context.Context) (recipe.Versions, error) {
	return recipe.NewVersions(sampleTags), nil
}

// results renders a record's tiers as "tier:Result" for compact expectations.
func results(run v1.Run) []string {
	var out []string
	for _, t := range run.Tiers {
		out = append(out, string(t.Name)+":"+string(t.Result))
	}
	return out
}

func reasonOf(run v1.Run, tier v1.TierName) string {
	for _, t := range run.Tiers {
		if t.Name == tier {
			return t.Reason
		}
	}
	return ""
}

func (f *fakeSwarm) SnapshotImages(context.Context) (*swarm.NodeImages, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshots++
	if len(f.deploys) == 0 {
		f.early++
	}
	return &swarm.NodeImages{}, nil
}

// RemoveRunImages records the call and answers one image removed per reference, 100 bytes each.
func (f *fakeSwarm) RemoveRunImages(_ context.Context, _ *swarm.NodeImages, refs []string) ([]swarm.RemovedImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, refs)
	f.stacksLeft = append(f.stacksLeft, len(f.stacks))
	var out []swarm.RemovedImage
	for _, ref := range refs {
		out = append(out, swarm.RemovedImage{ID: "sha256:" + ref, Refs: []string{ref}, Bytes: 100})
	}
	return out, nil
}
