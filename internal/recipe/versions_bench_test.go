package recipe_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

// BenchmarkVersions lists and orders the versions of a recipe with 500 release tags (and a
// few others) from a warm cache: the cost of every "is there a new version?" check of a sweep.
// The aim is well under 50 ms per op.
func BenchmarkVersions(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join(b.TempDir(), "big")
	run := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.org",
			"GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	run("", "init", "--quiet")
	run("", "commit", "--quiet", "--allow-empty", "-m", "init")
	head := run("", "rev-parse", "HEAD")
	// One update-ref for all tags: 500 git tag commands would dominate the set-up.
	var refs strings.Builder
	for i := range 500 {
		fmt.Fprintf(&refs, "create refs/tags/%d.%d.%d+%d.%d %s\n", i/100, i/10%10, i%10, i, i%7, head)
	}
	for _, t := range []string{"latest", "v1.2", "foo"} {
		fmt.Fprintf(&refs, "create refs/tags/%s %s\n", t, head)
	}
	run(refs.String(), "update-ref", "--stdin")

	src, err := recipe.Open(ctx, "big", dir, recipe.Options{CacheDir: b.TempDir(), FetchInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		vs, err := src.Versions(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(vs) != 500 || vs[499].Tag != "4.9.9+499.2" {
			b.Fatalf("got %d versions, newest %v", len(vs), vs[len(vs)-1])
		}
	}
}
