package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readState returns the stored state; the error wraps fs.ErrNotExist when none was written.
func readState(path string) ([]byte, error) {
	return os.ReadFile(path)
}

// writeState replaces the state atomically: a temporary file in the same directory is written,
// synced and renamed over the old one, so a backup taken at any moment sees the old or the new
// state, never half of it.
func writeState(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("create temporary state: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(dir)
}

// flushState makes sure the state file and its directory entry are on disk; the backup
// pre-hook runs it before the volume is copied.
func flushState(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// stateCommand implements "app state get|set VALUE|clear|flush", which reads and writes the
// state file directly so hooks and tests work even when the server is not answering.
func stateCommand(cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing subcommand (valid: get, set VALUE, clear, flush)")
	}
	path := cfg.statePath()
	switch sub, rest := args[0], args[1:]; {
	case sub == "get" && len(rest) == 0:
		data, err := readState(path)
		if err != nil {
			return fmt.Errorf("read state: %w", err)
		}
		_, err = stdout.Write(data)
		return err
	case sub == "set" && len(rest) == 1:
		return writeState(path, []byte(rest[0]))
	case sub == "clear" && len(rest) == 0:
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove state: %w", err)
		}
		return nil
	case sub == "flush" && len(rest) == 0:
		if err := flushState(path); err != nil {
			return err
		}
		// The marker lives outside /data so it is not part of the backup, and lets a test
		// see that the pre-hook ran.
		return touchFiles([]string{flushMarker})
	default:
		return fmt.Errorf("bad arguments %q (valid: get, set VALUE, clear, flush)", args)
	}
}

// flushMarker is touched by "state flush".
const flushMarker = "/tmp/state-flushed"
