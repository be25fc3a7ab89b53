package resources

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// IsResourceFile reports whether a file found in a resource directory is loaded: a *.yaml or
// *.yml file that is not hidden and not an editor's temp or backup file. The watcher uses it
// to ignore the files editors write beside the one being saved.
func IsResourceFile(path string) bool {
	name := filepath.Base(path)
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~") {
		return false
	}
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// skipDir reports whether a directory below a resource directory is skipped: hidden ones such
// as .git.
func skipDir(name string) bool { return strings.HasPrefix(name, ".") && name != "." && name != ".." }

// ReadFile reads one resource file, refusing a file over v1.MaxFileSize before reading it.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, readError(path, err)
	}
	if info.IsDir() {
		return nil, &v1.Error{File: path, Detail: "is a directory (valid: a YAML file)"}
	}
	if info.Size() > v1.MaxFileSize {
		return nil, v1.TooLargeError(path, info.Size())
	}
	// The file may grow between Stat and Read: read one byte past the limit to notice.
	data, err := io.ReadAll(io.LimitReader(f, v1.MaxFileSize+1))
	if err != nil {
		return nil, readError(path, err)
	}
	if len(data) > v1.MaxFileSize {
		return nil, v1.TooLargeError(path, int64(len(data)))
	}
	return data, nil
}

func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &v1.Error{File: path, Detail: "cannot read: " + err.Error()}
}

// files expands the paths into resource files: a file is taken as given, whatever its name; a
// directory is walked recursively for IsResourceFile files, in lexical order.
func files(paths []string) ([]string, []error) {
	var out []string
	var errs []error
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, readError(p, err))
			continue
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				errs = append(errs, readError(path, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
			case d.IsDir() && path != p && skipDir(d.Name()):
				return fs.SkipDir
			case !d.IsDir() && IsResourceFile(path):
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, readError(p, err))
		}
	}
	return out, errs
}
