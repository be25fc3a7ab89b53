package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempMarker is part of every temporary file's name: ".<base>.tmp-<random>".
const tempMarker = ".tmp-"

// staleTempAge is how old a temporary file must be before Open removes it. A live writer
// renames its temporary file within milliseconds; one this old belongs to a killed process.
const staleTempAge = time.Minute

// writeFile replaces path with data so that a crash at any instant leaves either the old or
// the new content: write a temporary file in the same directory (rename is only atomic within
// one file system), fsync it so the data is on disk before the name points to it, rename it
// over path, then fsync the directory so the rename itself survives a power cut.
func writeFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempMarker+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(FileMode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making renames and creations in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeStaleTemps deletes temporary files older than staleTempAge anywhere in the state
// directory. Failures are ignored: a leftover temporary file is harmless, only untidy.
func (s *Store) removeStaleTemps() {
	cutoff := time.Now().Add(-staleTempAge)
	_ = filepath.WalkDir(s.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), tempMarker) {
			return nil
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(path)
		}
		return nil
	})
}

// CorruptError reports a state file that could not be read or decoded. The file has been
// moved aside to MovedTo (its path with a ".corrupt" suffix) so the next write starts clean
// and the bad content stays available for inspection. Callers treat the object as having no
// stored state and report the error.
type CorruptError struct {
	// Path is the file that was unreadable.
	Path string
	// MovedTo is where it went, or "" if moving it failed too.
	MovedTo string
	// Err is the read or decode error.
	Err error
}

// Error says which file was bad, why, and where it went.
func (e *CorruptError) Error() string {
	if e.MovedTo == "" {
		return fmt.Sprintf("read %s: %v (could not move it aside)", e.Path, e.Err)
	}
	return fmt.Sprintf("read %s: %v (moved aside to %s)", e.Path, e.Err, e.MovedTo)
}

// Unwrap returns the read or decode error.
func (e *CorruptError) Unwrap() error { return e.Err }

// quarantine moves the unreadable file at path aside and returns the CorruptError to report.
// It first checks that path is still the file that failed (same inode as read), so a good file
// that another process renamed into place meanwhile is not the one moved aside; replaced is
// then true and the caller reads again.
func quarantine(path string, read os.FileInfo, cause error) (err error, replaced bool) {
	ce := &CorruptError{Path: path, Err: cause}
	now, lerr := os.Lstat(path)
	if errors.Is(lerr, fs.ErrNotExist) || (lerr == nil && read != nil && !os.SameFile(read, now)) {
		return nil, true
	}
	if lerr != nil {
		return ce, false
	}
	dst := path + ".corrupt"
	if err := os.Rename(path, dst); err != nil {
		return ce, false
	}
	_ = syncDir(filepath.Dir(path))
	ce.MovedTo = dst
	return ce, false
}

// readFile reads path and decodes it; a missing file is (false, nil), a file this process may
// not read is a plain error. Any other failure (an I/O error, undecodable content) moves the
// file aside and returns a *CorruptError.
func readFile(path string, decode func([]byte) error) (found bool, err error) {
	// A second attempt is only needed when a writer replaced the file between our read and
	// the quarantine check; after that the new file is whatever it is.
	for range 2 {
		found, err, replaced := readOnce(path, decode)
		if !replaced {
			return found, err
		}
	}
	return false, &CorruptError{Path: path, Err: errors.New("file keeps changing while being read")}
}

func readOnce(path string, decode func([]byte) error) (found bool, err error, replaced bool) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil, false
	}
	if errors.Is(err, fs.ErrPermission) {
		// Not corruption: this process (say, a CLI run as another user) may not read the
		// file, and moving the daemon's good status aside would lose it.
		return false, err, false
	}
	if err != nil {
		err, replaced = quarantine(path, nil, err)
		return false, err, replaced
	}
	defer f.Close()
	fi, err := f.Stat()
	var data []byte
	if err == nil {
		data, err = io.ReadAll(f)
	}
	if err == nil {
		err = decode(data)
	}
	if err != nil {
		err, replaced = quarantine(path, fi, err)
		return false, err, replaced
	}
	return true, nil, false
}
