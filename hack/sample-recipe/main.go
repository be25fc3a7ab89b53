// Command sample-recipe writes the sample recipe as a real git repository into DEST (see
// test/fixtures.SampleRecipe): `go run ./hack/sample-recipe .state/sample-recipe`, which is
// what `make demo` runs and what the sample resources point at. It is idempotent: commits are
// reproducible, so an up-to-date DEST is left alone and an outdated one (a git repository) is
// replaced; any other non-empty DEST is refused.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sample-recipe DEST")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "sample-recipe: %v\n", err)
		os.Exit(1)
	}
}

func write(dest string) error {
	dest, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	// Generate next to dest so the final rename stays on one file system.
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".sample-recipe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := fixtures.SampleRecipe(tmp); err != nil {
		return err
	}
	want, err := tagRefs(tmp)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dest); err == nil {
		if have, err := tagRefs(dest); err == nil && bytes.Equal(have, want) {
			fmt.Println("sample recipe up to date:", dest)
			return nil
		}
		if _, err := os.Stat(filepath.Join(dest, ".git")); err != nil {
			return fmt.Errorf("%s exists and is not a git repository; remove it or choose another DEST", dest)
		}
		if err := os.RemoveAll(dest); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	fmt.Println("sample recipe written:", dest)
	return nil
}

// tagRefs lists the tags and the commits they point at: equal lists mean equal repositories.
func tagRefs(repo string) ([]byte, error) {
	return exec.Command("git", "-C", repo, "for-each-ref", "--format=%(refname) %(*objectname) %(objectname)", "refs/tags", "refs/heads").Output()
}
