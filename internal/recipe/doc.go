// Package recipe owns Co-op Cloud recipe sources: it mirrors recipe git repositories into a
// cache under the state directory, lists and orders their version tags
// (MAJOR.MINOR.PATCH+UPSTREAM), resolves refs (tags, branches, commits, pull-request heads) to
// commits, materialises read-only trees of a commit shared between runs and processes, and
// reads a tree's contents (compose file list, .env.sample with abra's secret modifiers, the
// simple exports of abra.sh, release notes, backup capability). It must not deploy anything,
// talk to Docker, execute recipe code (abra.sh is read as text, never run), or decide which
// version to test or promote.
//
// Git is driven through the git command line, not a Go git library. The controller needs the
// git binary at run time anyway (custom tiers run recipe commands that use it); the CLI treats
// local paths and file:// URLs offline exactly like https ones, fetches any refspec on demand
// (refs/pull/N/head on GitHub, Gitea and Forgejo, refs/merge-requests/N/head on GitLab) without
// mirroring every pull request, and lists hundreds of tags with one for-each-ref (500 tags in
// about 9 ms including the process start, see BenchmarkVersions), while go-git would add a
// large dependency tree, lag behind on protocol and pack features, and walk big packfiles
// markedly slower. The cache holds one bare repository per recipe URL fetching branches and
// tags, written only under an flock, and trees per commit guarded by shared flocks, so the
// daemon and a one-shot CLI can share the cache. Trees are made read-only with chmod, which
// stops accidents by unprivileged tools but not a process running as root.
//
// A recipe repository is hostile input: a tree is unpacked and every recipe file read through an
// os.Root at the checkout (extract.go), and git runs with none of the machine's configuration, a
// short list of transports and fsck of fetched objects (git.go).
package recipe
