// Package recipe owns Co-op Cloud recipe sources: it clones and fetches recipe git repositories
// into a cache under the state directory, lists and orders their version tags
// (MAJOR.MINOR.PATCH+UPSTREAM), resolves refs (tags, branches, commits, pull-request heads) to
// commits, materialises read-only trees of a commit shared between runs, and reads a tree's
// contents (compose file list, .env.sample with abra's secret modifiers, simple exports of
// abra.sh, release notes, backup capability). It must not deploy anything, talk to Docker,
// execute recipe code (abra.sh is read as text), or decide which version to promote.
//
// Git is driven through the git command line rather than a Go git library. The controller needs
// the git binary at run time anyway (custom tiers run recipe commands that use it); the CLI
// fetches file:// URLs and local paths offline exactly as https ones, fetches arbitrary refspecs
// such as refs/pull/N/head or GitLab's refs/merge-requests/N/head on demand, and lists hundreds
// of tags with a single for-each-ref over packed refs in a few milliseconds, while go-git would
// add a large dependency tree and is markedly slower on big packfiles. The cache holds one bare
// mirror per recipe; every git invocation that writes to it runs under an flock on a lock file
// next to it, so the daemon and a one-shot CLI can share the cache safely.
package recipe
