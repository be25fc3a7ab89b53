package swarm

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// staging names what a job puts on its node: its service, the volumes of its files and
// output, and the container that fills them.
type staging struct {
	engine              *client.Client
	name, files, output string
	labels              map[string]string
}

func (st staging) stager() string { return st.name + "_stage" }

// stage creates the job's volumes on its node and fills them through a container that is
// created, never started: the files volume with j.Files, the output volume's root made
// writable for any user (a test image need not run as root).
func (c *Client) stage(ctx context.Context, st staging, j Job, auth string) error {
	for _, v := range []string{st.files, st.output} {
		if _, err := st.engine.VolumeCreate(ctx, volume.CreateOptions{Name: v, Labels: st.labels}); err != nil {
			return fmt.Errorf("create volume %q: %w", v, err)
		}
	}
	if err := ensureImage(ctx, st.engine, j.Image, auth); err != nil {
		return err
	}
	created, err := st.engine.ContainerCreate(ctx,
		&container.Config{Image: j.Image, Entrypoint: j.Command, Labels: withLabels(st.labels, map[string]string{v1.LabelJobStager: "true"})},
		&container.HostConfig{Mounts: []mount.Mount{
			{Type: mount.TypeVolume, Source: st.files, Target: j.FilesDir},
			{Type: mount.TypeVolume, Source: st.output, Target: j.OutputDir},
		}}, nil, nil, st.stager())
	if err != nil {
		return fmt.Errorf("create container %q: %w", st.stager(), err)
	}
	if err := st.engine.CopyToContainer(ctx, created.ID, j.FilesDir, j.Files, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copy files to %s: %w", j.FilesDir, err)
	}
	dir, err := writableDir(j.OutputDir)
	if err != nil {
		return err
	}
	if err := st.engine.CopyToContainer(ctx, created.ID, "/", dir, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("make %s writable: %w", j.OutputDir, err)
	}
	return st.removeStager(ctx)
}

// removeStager removes the staging container, if any.
func (st staging) removeStager(ctx context.Context) error {
	err := st.engine.ContainerRemove(ctx, st.stager(), container.RemoveOptions{Force: true})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %q: %w", st.stager(), err)
	}
	return nil
}

// removeStagers force-removes, on every engine, the staging containers of the stack's jobs
// that a crash left behind (see v1.LabelJobStager).
func (c *Client) removeStagers(ctx context.Context, stack string) error {
	f := stackFilter(stack)
	f.Add("label", v1.LabelJobStager)
	var errs []error
	for _, engine := range c.engines() {
		ctrs, err := engine.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			errs = append(errs, fmt.Errorf("list staging containers of stack %s: %w", stack, err))
			continue
		}
		for _, ctr := range ctrs {
			err := engine.ContainerRemove(ctx, ctr.ID, container.RemoveOptions{Force: true})
			if err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove staging container %s: %w", ctr.ID[:12], err))
			}
		}
	}
	return errors.Join(errs...)
}

// writableDir is a tar stream of one directory entry, dir (absolute) with mode 1777: extracted
// at / over the volume mounted there, it makes the volume's root writable for every user, as
// /tmp is.
func writableDir(dir string) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rel := strings.TrimPrefix(path.Clean(dir), "/")
	if rel == "" || rel == "." {
		return nil, fmt.Errorf("output directory %q: want an absolute path below /", dir)
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o1777}); err != nil {
		return nil, err
	}
	return &buf, tw.Close()
}

// ensureImage pulls ref on the engine when it does not have it: a container (unlike a
// service) is only created from an image the engine holds.
func ensureImage(ctx context.Context, engine *client.Client, ref, auth string) error {
	_, _, err := engine.ImageInspectWithRaw(ctx, ref)
	if err == nil || !errdefs.IsNotFound(err) {
		return err
	}
	rc, err := engine.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	return nil
}

// imageAuth is the registry credentials of ref, as a service create sends them.
func (c *Client) imageAuth(ref string) (string, error) {
	return c.serviceAuth(swarm.ServiceSpec{TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: ref}}})
}

// jobNode chooses the node a job runs on (see JobNode), from one node list, and returns its id
// and hostname.
func (c *Client) jobNode(ctx context.Context, service string, constraints []string) (id, host string, err error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return "", "", err
	}
	info, err := c.docker.Info(ctx)
	if err != nil {
		return "", "", fmt.Errorf("read engine info: %w", err)
	}
	id, err = JobNode(service, constraints, nodes, info.Swarm.NodeID)
	return id, nodes[id].Hostname, err
}

// JobNode chooses a usable node that satisfies every constraint (a constraint on what it
// cannot read is left to Swarm): self, the node of the engine the controller talks to, when it
// qualifies, else the first by hostname. A constraint no node satisfies is a
// *ConstraintError (the spec's fault); no usable node among those that satisfy them, an
// *UnschedulableError (the swarm's).
func JobNode(service string, constraints []string, nodes map[string]Node, self string) (string, error) {
	if c := UnsatisfiedConstraint(constraints, nodes); c != "" {
		return "", &ConstraintError{Service: service, Constraint: c}
	}
	ids := slices.SortedFunc(maps.Keys(nodes), func(a, b string) int { return strings.Compare(nodes[a].Hostname, nodes[b].Hostname) })
	if i := slices.Index(ids, self); i > 0 {
		ids = append([]string{self}, slices.Delete(ids, i, i+1)...)
	}
	for _, id := range ids {
		if n := nodes[id]; n.Usable() && satisfies(n, id, constraints) {
			return id, nil
		}
	}
	return "", &UnschedulableError{Service: service, Message: "no usable node satisfies its placement"}
}

// satisfies reports whether node id meets every constraint it can judge.
func satisfies(n Node, id string, constraints []string) bool {
	for _, c := range constraints {
		key, want, equal, ok := parseConstraint(c)
		if !ok {
			continue
		}
		if have, known := n.attribute(id, key); known && strings.EqualFold(have, want) != equal {
			return false
		}
	}
	return true
}
