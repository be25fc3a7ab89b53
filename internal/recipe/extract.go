package recipe

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// extract writes the tree of commit into dst from git archive, then makes it read-only.
func (s *Source) extract(ctx context.Context, dst, commit string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := untar(pr, root)
		if err == nil {
			// The archive ends with padding after the end marker tar stops at.
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		done <- err
	}()
	gitErr := gitTo(ctx, pw, s.gitDir, "archive", "--format=tar", "--end-of-options", commit)
	pw.CloseWithError(gitErr)
	if tarErr := <-done; tarErr != nil {
		// git then failed too, on the closed pipe; the unpacking error is the cause.
		return fmt.Errorf("unpack tree: %w", tarErr)
	}
	if gitErr != nil {
		return gitErr
	}
	return makeReadOnly(dst)
}

// UnsafeEntryError is a tree entry refused at checkout because it could reach outside the
// checkout, or is not a kind of file a recipe has. It names the entry, never a symbolic link's
// target: the target may be a host path whose name alone says too much.
type UnsafeEntryError struct {
	// Entry is the path of the entry in the tree.
	Entry string
	// Reason says what is wrong with it.
	Reason string
}

func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("tree entry %q %s; refused", e.Entry, e.Reason)
}

// untar writes the regular files, directories and symbolic links of a git archive stream through
// root. The stream comes from the recipe's repository, which is hostile input: an entry written
// through a symbolic link of an earlier one (`a -> /`, then `a/etc/x`) would write anywhere the
// daemon may. So every entry is checked first (see checkEntry), and root refuses whatever
// leaves the checkout even if a check missed it.
func untar(r io.Reader, root *os.Root) error {
	tr := tar.NewReader(r)
	t := &entries{links: map[string]bool{}, seen: map[string]bool{}}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(h.Name, "/")
		if h.Typeflag == tar.TypeXGlobalHeader || name == "" || name == "." {
			continue
		}
		if err := t.check(h, name); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeSymlink:
			if err = root.MkdirAll(path.Dir(name), 0o755); err == nil {
				err = root.Symlink(h.Linkname, name)
			}
		default:
			if err = root.MkdirAll(path.Dir(name), 0o755); err == nil {
				err = writeFile(root, name, tr, os.FileMode(h.Mode)&0o111|0o644)
			}
		}
		if err != nil {
			// os.Root errors name the path inside the checkout only.
			return fmt.Errorf("write tree entry %q: %w", name, err)
		}
	}
}

// entries remembers what untar has seen of one stream.
type entries struct {
	links map[string]bool // symbolic links written so far
	seen  map[string]bool // every entry written so far
}

// check refuses an entry that is not a directory, regular file or symbolic link (devices, FIFOs
// and hard links are not in any recipe), whose name is not a plain relative path, names .git,
// appears twice or crosses a symbolic link, and a symbolic link whose target leaves the tree.
func (t *entries) check(h *tar.Header, name string) error {
	refuse := func(reason string) error { return &UnsafeEntryError{Entry: name, Reason: reason} }
	switch h.Typeflag {
	case tar.TypeDir, tar.TypeReg, tar.TypeSymlink:
	case tar.TypeChar, tar.TypeBlock:
		return refuse("is a device")
	case tar.TypeFifo:
		return refuse("is a FIFO")
	case tar.TypeLink:
		return refuse("is a hard link")
	default:
		return refuse(fmt.Sprintf("has tar type %q, not a file, directory or symbolic link", h.Typeflag))
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) || strings.Contains(name, `\`) || path.Clean(name) != name {
		return refuse("is not a relative path inside the tree")
	}
	for _, elem := range strings.Split(name, "/") {
		if strings.EqualFold(elem, ".git") {
			return refuse("names .git, which git itself refuses to check out")
		}
	}
	if t.seen[name] {
		return refuse("appears twice in the tree")
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if t.links[dir] {
			return refuse(fmt.Sprintf("lies below the symbolic link %q", dir))
		}
	}
	if h.Typeflag == tar.TypeSymlink {
		target := h.Linkname
		if target == "" || path.IsAbs(target) || strings.Contains(target, `\`) || !filepath.IsLocal(path.Join(path.Dir(name), target)) {
			return refuse("is a symbolic link to a path outside the checkout")
		}
		t.links[name] = true
	}
	t.seen[name] = true
	return nil
}

func writeFile(root *os.Root, name string, r io.Reader, mode os.FileMode) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// makeReadOnly clears the write bits of everything below dir, deepest first, so that a test
// run cannot change the tree other runs share. WalkDir does not follow symbolic links.
func makeReadOnly(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, path)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.Chmod(path, info.Mode().Perm()&^0o222)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return err
		}
	}
	return nil
}

// ReadTreeFile reads the file name (slash-separated, relative to the tree dir) through an
// os.Root at dir: a symbolic link that leads outside the tree fails instead of being followed,
// also in a tree extracted before checkouts refused such links.
func ReadTreeFile(dir, name string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(name)
}

// StatTreeFile is os.Stat of name inside the tree dir, through an os.Root like ReadTreeFile.
func StatTreeFile(dir, name string) (fs.FileInfo, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Stat(name)
}
