package tiers

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/backup"
)

// markerFile is the file the backup, restore and upgrade tiers write into the app's data when
// the spec gives no marker commands.
const markerFile = ".ccci-marker"

// marker is where a tier puts its proof that data survives: the spec's marker commands (data of
// the application), or a marker file in a directory of the app's data.
type marker struct {
	// Spec is the RecipeTest's marker; nil for a file marker.
	Spec *v1.Marker
	// Service and Dir say where a file marker goes; for spec markers Service is Spec.Service.
	Service, Dir string
	// Source is the backup source holding a file marker, when a backup plan chose it.
	Source *backup.Source
}

// String says where the marker is, for logs and errors.
func (m marker) String() string {
	if m.Spec != nil {
		return fmt.Sprintf("the marker commands of spec.marker in service %s", m.Service)
	}
	return fmt.Sprintf("%s in service %s", path.Join(m.Dir, markerFile), m.Service)
}

// markerFor picks the marker of a backup plan: spec.marker when given, else a file in the first
// whole volume the plan takes. A plan that takes only parts of volumes (a dump file) or paths
// outside volumes leaves no place where a file proves that the app's data survives: there the
// marker must be application data, and the error says so.
func (x *execution) markerFor(p backup.Plan) (marker, error) {
	if m := x.req.Spec.Marker; m != nil {
		return marker{Spec: m, Service: m.Service}, nil
	}
	for _, s := range p.Sources {
		if s.Whole() {
			return marker{Service: s.Service, Dir: s.ContainerPath(), Source: &s}, nil
		}
	}
	var parts []string
	for _, s := range p.Sources {
		parts = append(parts, s.String())
	}
	return marker{}, fmt.Errorf("the backup plan takes only %s: a marker file there would not prove the data survives; set spec.marker to write and read a marker as application data", strings.Join(parts, ", "))
}

// markerText is a marker's content, unique to the run, the tier and the moment.
func (x *execution) markerText(tier v1.TierName) string {
	return fmt.Sprintf("ccci-%s-%s-%d", tier, x.req.RunID, time.Now().UnixNano())
}

// writeMarker stores text as the marker m on the stack.
func (x *execution) writeMarker(ctx context.Context, l *tierLog, stack string, m marker, text string) error {
	if m.Spec != nil {
		res, err := x.r.swarm.Exec(ctx, stack, m.Service, m.Spec.Write, v1.MarkerEnv+"="+text)
		if err != nil {
			return fmt.Errorf("write marker (spec.marker.write) in service %s: %w", m.Service, err)
		}
		l.Printf("spec.marker.write in service %s: exit code %d", m.Service, res.ExitCode)
		l.Block("stdout", res.Stdout)
		l.Block("stderr", res.Stderr)
		if res.ExitCode != 0 {
			return fmt.Errorf("spec.marker.write in service %s exited with code %d: %s", m.Service, res.ExitCode, tail(res.Stderr))
		}
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: markerFile, Mode: 0o644, Size: int64(len(text)), ModTime: time.Now(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if _, err := tw.Write([]byte(text)); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if err := x.r.swarm.CopyTo(ctx, stack, m.Service, m.Dir, &buf); err != nil {
		return fmt.Errorf("write marker into %s of service %s: %w", m.Dir, m.Service, err)
	}
	l.Printf("wrote marker %s", m)
	return nil
}

// checkMarker reads the marker m back from the stack; it is an error unless text is there.
func (x *execution) checkMarker(ctx context.Context, l *tierLog, stack string, m marker, text string) error {
	got, err := x.readMarker(ctx, stack, m, text)
	if err != nil {
		l.Printf("marker %s: error %v", m, err)
		return err
	}
	if !strings.Contains(got, text) {
		l.Printf("marker %s: want %q, read %q", m, text, got)
		return fmt.Errorf("marker %q not found", text)
	}
	l.Printf("marker back: %s", m)
	return nil
}

func (x *execution) readMarker(ctx context.Context, stack string, m marker, text string) (string, error) {
	if m.Spec != nil {
		res, err := x.r.swarm.Exec(ctx, stack, m.Service, m.Spec.Read, v1.MarkerEnv+"="+text)
		if err != nil {
			return "", fmt.Errorf("read marker (spec.marker.read) in service %s: %w", m.Service, err)
		}
		if res.ExitCode != 0 {
			return "", fmt.Errorf("spec.marker.read in service %s exited with code %d: %s", m.Service, res.ExitCode, tail(res.Stderr))
		}
		return res.Stdout, nil
	}
	rc, err := x.r.swarm.CopyFrom(ctx, stack, m.Service, path.Join(m.Dir, markerFile))
	if err != nil {
		return "", err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", errors.New("no marker file in the copy")
		}
		if err != nil {
			return "", err
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(io.LimitReader(tr, 4096))
			return string(data), err
		}
	}
}

// archiveHolds reports whether a backup archive carries the marker: for a file marker, the
// marker file at its place in the archive; for spec markers, the text in any file of the
// archive (gzip-compressed files are read decompressed), as a database dump holds the row.
func archiveHolds(file, stack string, m marker, text string) (bool, error) {
	if m.Spec == nil {
		entry := path.Join(m.Source.ArchivePath(stack), markerFile)
		got, err := archiveFile(file, entry)
		if err != nil {
			return false, nil
		}
		return got == text, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return false, fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return false, fmt.Errorf("read archive %s: %w", file, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read archive %s: %w", file, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		found, err := containsText(tr, text)
		if err != nil {
			return false, fmt.Errorf("read archive entry %s: %w", hdr.Name, err)
		}
		if found {
			return true, nil
		}
	}
}

// containsText scans r, decompressed when it is gzip, for text.
func containsText(r io.Reader, text string) (bool, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return false, nil
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	// Keep the tail of each chunk so a marker across a chunk boundary is found.
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := br.Read(buf)
		chunk := append(carry, buf[:n]...)
		if bytes.Contains(chunk, []byte(text)) {
			return true, nil
		}
		if keep := len(text) - 1; len(chunk) > keep {
			carry = append([]byte(nil), chunk[len(chunk)-keep:]...)
		} else {
			carry = chunk
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			// A corrupt compressed file does not hold the marker.
			return false, nil
		}
	}
}
