package hostile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildProbeImage builds the probe command (./probe) statically into an image FROM scratch
// tagged ref and labelled label ("key=value"), for custom tiers that run in a container, run
// as user (USER of the Dockerfile, such as 65534:65534; root when empty). The caller removes
// the image.
func BuildProbeImage(ctx context.Context, ref, label, user string) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return fmt.Errorf("build probe image: cannot locate the probe's source")
	}
	dir, err := os.MkdirTemp("", "ccci-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	build := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", filepath.Join(dir, "probe"), "./probe")
	build.Dir = filepath.Dir(file)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if err := run(build); err != nil {
		return fmt.Errorf("build probe: %w", err)
	}
	dockerfile := "FROM scratch\nCOPY probe /probe\nENTRYPOINT [\"/probe\"]\n"
	if user != "" {
		dockerfile += "USER " + user + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	img := exec.CommandContext(ctx, "docker", "build", "--quiet", "--label", label, "--tag", ref, dir)
	// The engine here has no BuildKit; ask for the classic builder explicitly.
	img.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if err := run(img); err != nil {
		return fmt.Errorf("build probe image %s: %w", ref, err)
	}
	return nil
}

func run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// goTool finds the go command: PATH first, else the toolchain that built this test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
