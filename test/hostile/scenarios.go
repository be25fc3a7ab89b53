package hostile

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
)

// Compose is a valid compose file of one service of the sample image, so that a hostile
// recipe fails only for what it does on purpose.
const Compose = `version: "3.8"
services:
  app:
    image: ccci-sample-app:1.0
    deploy:
      labels:
        coop-cloud.${STACK_NAME}.version: "1.0.0+1.0"
`

// Tag is the version tag every scenario repository carries on its one commit.
const Tag = "1.0.0+1.0"

// scenario writes a repository at dir whose branch main and tag Tag hold one commit of
// entries; it returns the repository.
func scenario(dir string, entries ...Entry) (*Repo, error) {
	r, err := Init(dir)
	if err != nil {
		return nil, err
	}
	tree, err := r.Tree(entries...)
	if err != nil {
		return nil, err
	}
	commit, err := r.Commit("main", tree, "hostile")
	if err != nil {
		return nil, err
	}
	return r, r.Tag(Tag, commit)
}

// EnvSampleLink is a recipe whose .env.sample is a symbolic link to hostFile (say the daemon's
// age identity): read as an env file, its first line would land in a parse error.
func EnvSampleLink(dir, hostFile string) (*Repo, error) {
	return scenario(dir, File("compose.yml", Compose), Link(".env.sample", hostFile))
}

// ComposeLink is a recipe whose compose.yml is a symbolic link to hostFile.
func ComposeLink(dir, hostFile string) (*Repo, error) {
	return scenario(dir, Link("compose.yml", hostFile))
}

// ClimbingLink is a recipe with a relative symbolic link that climbs out of the checkout, deep
// enough to reach the root from any cache directory, to hostFile (absolute).
func ClimbingLink(dir, hostFile string) (*Repo, error) {
	return scenario(dir, File("compose.yml", Compose), Link(".env.sample", strings.Repeat("../", 40)+strings.TrimPrefix(hostFile, "/")))
}

// WriteThroughLink is the symlink-then-directory tree: a symbolic link "a" to hostDir, then a
// directory "a" holding the file name with content. git archive streams the link before the
// directory's file, so an unpacker that only checks names lexically writes hostDir/name.
func WriteThroughLink(dir, hostDir, name, content string) (*Repo, error) {
	return scenario(dir, File("compose.yml", Compose), Link("a", hostDir), Dir("a", File(name, content)))
}

// GitconfigWriter writes, through WriteThroughLink, a .gitconfig into home (the daemon's HOME
// under the NixOS unit) that GitconfigCommand would make every later fetch run.
func GitconfigWriter(dir, home, remote, marker string) (*Repo, error) {
	return WriteThroughLink(dir, home, ".gitconfig", GitconfigCommand(remote, marker))
}

// GitconfigCommand is a git configuration that turns a fetch of remote into running
// `touch marker` through the ext:: transport. Neither path may hold a space or a percent sign.
func GitconfigCommand(remote, marker string) string {
	return fmt.Sprintf("[url \"ext::sh -c touch%% %s\"]\n\tinsteadOf = %s\n[protocol \"ext\"]\n\tallow = always\n", marker, remote)
}

// DuplicateEntries is a recipe whose root tree holds compose.yml twice, with different
// contents: which one a tool sees depends on the tool.
func DuplicateEntries(dir string) (*Repo, error) {
	return scenario(dir, File("compose.yml", Compose), File("compose.yml", strings.ReplaceAll(Compose, "1.0", "6.6")))
}

// DotGit is a recipe whose tree holds a .git directory with a config that sets a hook path.
func DotGit(dir string) (*Repo, error) {
	return scenario(dir, File("compose.yml", Compose), Dir(".git", File("config", "[core]\n\thooksPath = /tmp\n")))
}

// SymlinkThenDirArchive is the tar stream of WriteThroughLink as a hostile git (or a git that
// has the objects without having checked them) would produce it.
func SymlinkThenDirArchive(hostDir, name, content string) []byte {
	return archive(
		&tar.Header{Name: "a", Typeflag: tar.TypeSymlink, Linkname: hostDir},
		&tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "a/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}, content,
	)
}

// SpecialFileArchive is a tar stream holding a file of typeflag (tar.TypeChar, tar.TypeBlock,
// tar.TypeFifo or tar.TypeLink) named name.
func SpecialFileArchive(name string, typeflag byte) []byte {
	h := &tar.Header{Name: name, Typeflag: typeflag, Mode: 0o644, Devmajor: 1, Devminor: 3}
	if typeflag == tar.TypeLink {
		h.Linkname = "/etc/passwd"
	}
	return archive(h)
}

// archive writes headers, each *tar.Header optionally followed by its content string.
func archive(items ...any) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		var err error
		switch it := it.(type) {
		case *tar.Header:
			err = tw.WriteHeader(it)
		case string:
			_, err = tw.Write([]byte(it))
		}
		if err != nil {
			panic(err) // only a programming error of this file gets here
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// DotGitArchive is the tar stream of DotGit as a git without its own path checks would produce
// it (git archive refuses the path itself).
func DotGitArchive() []byte {
	config := "[core]\n\thooksPath = /tmp\n"
	return archive(
		&tar.Header{Name: ".git/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: ".git/config", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(config))}, config,
	)
}
