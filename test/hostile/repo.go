package hostile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Git object modes of tree entries.
const (
	modeFile    = "100644"
	modeSymlink = "120000"
	modeDir     = "040000"
)

// Repo is a bare repository written object by object.
type Repo struct {
	// Dir is the absolute path of the bare repository, usable as a recipe source URL.
	Dir string
}

// Entry is one entry of a tree written by Repo.Tree. Build entries with File, Link and Dir.
type Entry struct {
	mode, name string
	content    string  // File and Link: the blob
	dir        []Entry // Dir: the subtree
}

// File is a regular file entry.
func File(name, content string) Entry { return Entry{mode: modeFile, name: name, content: content} }

// Link is a symbolic link entry pointing at target, which may be anything, absolute or not.
func Link(name, target string) Entry {
	return Entry{mode: modeSymlink, name: name, content: target}
}

// Dir is a directory entry holding entries.
func Dir(name string, entries ...Entry) Entry { return Entry{mode: modeDir, name: name, dir: entries} }

// Init creates an empty bare repository at dir.
func Init(dir string) (*Repo, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := r.git("", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return nil, err
	}
	return r, nil
}

// Tree writes entries as a tree, exactly as given: duplicate names stay duplicate.
func (r *Repo) Tree(entries ...Entry) (string, error) {
	var lines []string
	for _, e := range entries {
		var (
			kind, id string
			err      error
		)
		if e.mode == modeDir {
			kind = "tree"
			id, err = r.Tree(e.dir...)
		} else {
			kind = "blob"
			id, err = r.git(e.content, "hash-object", "-w", "--stdin")
		}
		if err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprintf("%s %s %s\t%s", e.mode, kind, id, e.name))
	}
	// git's tree order (a directory sorts as if its name ended with "/"), which mktree keeps.
	sort.SliceStable(lines, func(i, j int) bool { return sortName(lines[i]) < sortName(lines[j]) })
	return r.git(strings.Join(lines, "\n")+"\n", "mktree")
}

func sortName(line string) string {
	_, name, _ := strings.Cut(line, "\t")
	if strings.HasPrefix(line, modeDir) {
		return name + "/"
	}
	return name
}

// Commit writes a commit of tree (with the parents given) and points branch (refs/heads/…) or
// any full ref name at it; it returns the commit id.
func (r *Repo) Commit(ref, tree, message string, parents ...string) (string, error) {
	args := []string{"commit-tree", tree, "-m", message}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	id, err := r.git("", args...)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(ref, "refs/") {
		ref = "refs/heads/" + ref
	}
	if _, err := r.git("", "update-ref", ref, id); err != nil {
		return "", err
	}
	return id, nil
}

// Tag points the lightweight tag name at commit.
func (r *Repo) Tag(name, commit string) error {
	_, err := r.git("", "update-ref", "refs/tags/"+name, commit)
	return err
}

// git runs git on the repository, isolated from every git configuration of the machine, with
// stdin as its input; it returns the trimmed standard output.
func (r *Repo) git(stdin string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", r.Dir}, args...)...)
	if args[0] == "init" {
		cmd = exec.Command("git", args...)
	}
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=hostile", "GIT_AUTHOR_EMAIL=hostile@ccci.invalid", "GIT_AUTHOR_DATE=@1735732800 +0000",
		"GIT_COMMITTER_NAME=hostile", "GIT_COMMITTER_EMAIL=hostile@ccci.invalid", "GIT_COMMITTER_DATE=@1735732800 +0000",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), r.Dir, err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
