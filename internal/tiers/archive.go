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
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_TRUNC, privateFile)
	if err != nil {
		return nil, fmt.Errorf("create archive: %w", err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, h))
	return &archiveWriter{f: f, h: h, gz: gz, tw: tar.NewWriter(gz), archive: archiveInfo{Path: file}}, nil
}

// add copies every entry of a container copy's tar stream into the archive under dest. A copy
// of /x/y names its entries y, y/...; the entries go to dest, dest/... so that the archive shows
// the source where the backup spec puts it, whatever its path in the container.
func (a *archiveWriter) add(dest string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read copied files: %w", err)
		}
		hdr.Name = rebase(hdr.Name, dest)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = rebase(hdr.Linkname, dest)
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

// rebase replaces the first element of a copied entry's name with dest.
func rebase(name, dest string) string {
	_, rest, _ := strings.Cut(strings.Trim(name, "/"), "/")
	return path.Join(dest, rest)
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

// sourceTar returns a tar stream of the archive's entries at or below archivePath, renamed to
// rel and below (relative to the directory they are extracted into), ready to be copied into a
// container: the reverse of archiveWriter.add.
func sourceTar(file, archivePath, rel string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeSourceTar(file, archivePath, rel, pw)) }()
	return pr
}

func writeSourceTar(file, archivePath, rel string, w io.Writer) error {
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
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return fmt.Errorf("read archive %s: %w", file, err)
		}
		name, ok := below(hdr.Name, archivePath, rel)
		if !ok || name == "" || name == "." {
			continue
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, ok = below(hdr.Linkname, archivePath, rel); !ok {
				continue
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write restore stream: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("write restore stream: %w", err)
		}
	}
}

// below maps an archive entry at or below archivePath to the same place below rel.
func below(name, archivePath, rel string) (string, bool) {
	name = strings.TrimSuffix(name, "/")
	if name == archivePath {
		return rel, true
	}
	rest, ok := strings.CutPrefix(name, archivePath+"/")
	if !ok {
		return "", false
	}
	return path.Join(rel, rest), true
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
