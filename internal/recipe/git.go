package recipe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// gitEnv keeps git from prompting for credentials on a terminal nobody watches and makes its
// messages, which end up in our errors, stable. GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL, HOME
// and XDG_CONFIG_HOME (see gitHome) shut out every configuration file but the mirror's own: a
// recipe that once managed to write $HOME/.gitconfig (an insteadOf rewrite to an ext:: URL)
// made the next fetch run a shell command.
var gitEnv = []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1"}

// gitConfig is given to every git invocation with -c. Only the transports a recipe source is
// written with are allowed (file for local paths and file:// URLs); ext::, fd:: and plain http
// are not. Objects fetched are checked, so a tree with duplicate entries or a .git entry never
// enters the mirror.
var gitConfig = []string{
	"protocol.allow=never",
	"protocol.https.allow=always",
	"protocol.ssh.allow=always",
	"protocol.git.allow=always",
	"protocol.file.allow=always",
	"transfer.fsckObjects=true",
	"core.hooksPath=/dev/null",
	"core.fsmonitor=false",
}

// keptGitVars are the variables of the process environment starting with GIT_ that reach git:
// how to reach an ssh remote is the operator's choice. Every other GIT_ variable (GIT_DIR,
// GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT, …) is dropped.
var keptGitVars = map[string]bool{"GIT_SSH": true, "GIT_SSH_COMMAND": true, "GIT_SSH_VARIANT": true}

// gitHomeName is the private git home inside the cache directory. It starts with a dot, which no
// recipe name (a DNS label) does.
const gitHomeName = ".ccci-git-home"

var gitHomeState struct {
	sync.Mutex
	dir string
}

// useGitHome makes <cacheDir>/.ccci-git-home the private directory given to every git as HOME
// and XDG_CONFIG_HOME, holding the empty file gitconfig given as GIT_CONFIG_GLOBAL. It is done
// once per process (the first cache opened wins; any empty home will do) and empties gitconfig
// should anything have written it. It is not the state directory: under the NixOS unit HOME is
// the state directory, the parent of the cache.
func useGitHome(cacheDir string) error {
	gitHomeState.Lock()
	defer gitHomeState.Unlock()
	if gitHomeState.dir != "" {
		return nil
	}
	dir, err := filepath.Abs(filepath.Join(cacheDir, gitHomeName))
	if err != nil {
		return fmt.Errorf("make private git home: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make private git home: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gitconfig"), nil, 0o600); err != nil {
		return fmt.Errorf("make private git home: %w", err)
	}
	gitHomeState.dir = dir
	return nil
}

// gitHome returns the private git home set by useGitHome.
func gitHome() (string, error) {
	gitHomeState.Lock()
	defer gitHomeState.Unlock()
	if gitHomeState.dir == "" {
		return "", errors.New("no private git home: open a recipe source first")
	}
	return gitHomeState.dir, nil
}

// gitEnviron is the environment of every git invocation: the process environment without
// GIT_ variables (but keptGitVars) and configuration homes, then gitEnv and the private home.
func gitEnviron() ([]string, error) {
	home, err := gitHome()
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(name, "GIT_") && !keptGitVars[name]) || name == "HOME" || name == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, gitEnv...)
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig")), nil
}

// git runs git with gitDir as repository and returns its standard output. A failure becomes an
// error quoting the subcommand and the tail of standard error. Callers put "--" (or
// --end-of-options where the subcommand takes revisions) before positional arguments.
func git(ctx context.Context, gitDir string, args ...string) (string, error) {
	var stdout bytes.Buffer
	if err := gitTo(ctx, &stdout, gitDir, args...); err != nil {
		return "", err
	}
	return stdout.String(), nil
}

// gitTo is git with standard output streamed to w.
func gitTo(ctx context.Context, w io.Writer, gitDir string, args ...string) error {
	env, err := gitEnviron()
	if err != nil {
		return fmt.Errorf("git %s: %w", args[0], err)
	}
	var full []string
	for _, c := range gitConfig {
		full = append(full, "-c", c)
	}
	if gitDir != "" {
		full = append(full, "--git-dir", gitDir)
	}
	cmd := exec.CommandContext(ctx, "git", append(full, args...)...)
	processes.Add(1)
	cmd.Env = env
	// A killed git may leave a remote helper holding the pipes; do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		return fmt.Errorf("git %s: %w%s", args[0], err, stderrTail(stderr.String()))
	}
	return nil
}

// stderrTail returns what matters of git's standard error for an error message: its fatal:
// and error: lines when there are any, else its last lines.
func stderrTail(s string) string {
	var all, errs []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "fatal: ") || strings.HasPrefix(line, "error: "):
			errs = append(errs, line)
			all = append(all, line)
		default:
			all = append(all, line)
		}
	}
	if len(errs) == 0 {
		errs = all
	}
	if len(errs) > 3 {
		errs = errs[len(errs)-3:]
	}
	if len(errs) == 0 {
		return ""
	}
	return ": " + strings.Join(errs, "; ")
}
