package tiers

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
)

// archiveInfo describes a backup archive written to a run's artifacts directory.
type archiveInfo struct {
	// Path is the archive file (a gzip-compressed tar).
	Path string
	// SHA256 is the hex sha256 of the file.
	SHA256 string
	// Size is the file's size in bytes.
	Size int64
	// Entries counts the tar entries (files, directories, links).
	Entries int
	// Files counts the regular files among them.
	Files int
}

// archiveWriter writes tar streams (as returned by a container copy) into one gzip-compressed tar,
// each under a prefix naming its service and the parent of the copied path, and hashes the file
// as it is written.
type archiveWriter struct {
	f       *os.File
	h       hash.Hash
	gz      *gzip.Writer
	tw      *tar.Writer
	archive archiveInfo
}

func createArchive(file string) (*archiveWriter, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("create archive: %w", err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, h))
	return &archiveWriter{f: f, h: h, gz: gz, tw: tar.NewWriter(gz), archive: archiveInfo{Path: file}}, nil
}

// archivePrefix returns where the copy of containerPath from service lives in an archive:
// <service>/<parent of containerPath>. A container copy names its entries after the base of the
// copied path (copying /var/lib/x yields x/...), so extracting the entries under the prefix,
// stripped of <service>/, at "/" puts them back where they came from.
func archivePrefix(service, containerPath string) string {
	parent := strings.Trim(path.Dir(path.Clean("/"+containerPath)), "/")
	if parent == "" {
		return service
	}
	return service + "/" + parent
}

// add copies every entry of the tar stream r into the archive under prefix.
func (a *archiveWriter) add(prefix string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read copied files: %w", err)
		}
		hdr.Name = path.Join(prefix, hdr.Name)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = path.Join(prefix, hdr.Linkname)
		}
		if err := a.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write archive entry %q: %w", hdr.Name, err)
		}
		if _, err := io.Copy(a.tw, tr); err != nil {
			return fmt.Errorf("write archive entry %q: %w", hdr.Name, err)
		}
		a.archive.Entries++
		if hdr.Typeflag == tar.TypeReg {
			a.archive.Files++
		}
	}
}

// close finishes the archive and returns its description.
func (a *archiveWriter) close() (archiveInfo, error) {
	err := errors.Join(a.tw.Close(), a.gz.Close())
	info, statErr := a.f.Stat()
	err = errors.Join(err, statErr, a.f.Close())
	if err != nil {
		return archiveInfo{}, fmt.Errorf("close archive %s: %w", a.archive.Path, err)
	}
	a.archive.SHA256 = hex.EncodeToString(a.h.Sum(nil))
	a.archive.Size = info.Size()
	return a.archive, nil
}

// abort closes and removes a partly written archive.
func (a *archiveWriter) abort() {
	_ = a.f.Close()
	_ = os.Remove(a.archive.Path)
}

// serviceTar returns a tar stream of the archive's entries of one service with the <service>/
// prefix stripped, ready to be copied into the service's container at "/".
func serviceTar(file, service string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeServiceTar(file, service, pw)) }()
	return pr
}

func writeServiceTar(file, service string, w io.Writer) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read archive %s: %w", file, err)
	}
	tr := tar.NewReader(gz)
	tw := tar.NewWriter(w)
	prefix := service + "/"
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return fmt.Errorf("read archive %s: %w", file, err)
		}
		if !strings.HasPrefix(hdr.Name, prefix) {
			continue
		}
		hdr.Name = strings.TrimPrefix(hdr.Name, prefix)
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = strings.TrimPrefix(hdr.Linkname, prefix)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write restore stream: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("write restore stream: %w", err)
		}
	}
}

// archiveFile returns the content (up to 64 KiB) of the regular file entry name of the archive.
func archiveFile(file, name string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("read archive %s: %w", file, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("archive %s has no entry %s", file, name)
		}
		if err != nil {
			return "", fmt.Errorf("read archive %s: %w", file, err)
		}
		if hdr.Name == name && hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.LimitReader(tr, 64<<10))
			return string(data), err
		}
	}
}
