package tiers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// maxArtifactBytes bounds what a custom tier's container may put into the run's artifacts: the
// container is the recipe's, and the state directory is the controller's disk.
const maxArtifactBytes = 1 << 30

// treeTar is a tar stream of the checkout dir (its files, directories and the symbolic links
// inside it, which the checkout kept only if they stay in the tree), read through a root so
// nothing outside dir is read.
func treeTar(dir string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		return addTreeEntry(tw, root, name, d)
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addTreeEntry writes one entry of the checkout; anything but a file, directory or link is
// left out (the checkout has none).
func addTreeEntry(tw *tar.Writer, root *os.Root, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	h := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), ModTime: info.ModTime()}
	switch {
	case d.IsDir():
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
	case d.Type()&fs.ModeSymlink != 0:
		if h.Linkname, err = root.Readlink(name); err != nil {
			return err
		}
		h.Typeflag = tar.TypeSymlink
	case d.Type().IsRegular():
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
	default:
		return nil
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, h.Size)
	return err
}

// extractArtifacts writes the regular files and directories of a container's copy of its
// artifacts directory (entries under the directory's base name, as the Engine's archive
// endpoint sends them) into dir, through a root. The stream is the recipe's: links, devices
// and names that leave dir are refused, existing files are never overwritten, and the total is
// bounded by maxArtifactBytes.
func extractArtifacts(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read artifacts: %w", err)
		}
		_, name, _ := strings.Cut(strings.TrimSuffix(h.Name, "/"), "/")
		if name == "" {
			continue // the directory itself
		}
		if !fs.ValidPath(name) || path.Clean(name) != name {
			return fmt.Errorf("artifact %q: not a plain relative path; refused", name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeReg:
			if total += h.Size; total > maxArtifactBytes {
				return fmt.Errorf("artifacts exceed %d bytes; refused from %q on", int64(maxArtifactBytes), name)
			}
			err = writeArtifact(root, name, tr)
		default:
			return fmt.Errorf("artifact %q: not a regular file or directory; refused", name)
		}
		if err != nil {
			return fmt.Errorf("write artifact %q: %w", name, err)
		}
	}
}

func writeArtifact(root *os.Root, name string, r io.Reader) error {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
