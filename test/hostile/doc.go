// Package hostile builds the recipe repositories and archive streams an attacker would push, so
// that the security specs (internal/recipe, test/integration) can show that nothing outside a
// checkout is read or written and no command runs. Every fixture is made by Go code at test
// time with git's plumbing (hash-object, mktree, commit-tree), which writes trees that
// `git add` never would: duplicate entries, a symbolic link and a directory of the same name, a
// .git directory. Nothing here is committed as a binary archive. It must not be imported by
// product code.
package hostile
