package recipe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// gitEnv keeps git from prompting for credentials on a terminal nobody watches and makes its
// messages, which end up in our errors, stable.
var gitEnv = []string{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "LC_ALL=C"}

// git runs git with gitDir as repository and returns its standard output. A failure becomes an
// error quoting the subcommand and the tail of standard error.
func git(ctx context.Context, gitDir string, args ...string) (string, error) {
	var stdout bytes.Buffer
	if err := gitTo(ctx, &stdout, gitDir, args...); err != nil {
		return "", err
	}
	return stdout.String(), nil
}

// gitTo is git with standard output streamed to w.
func gitTo(ctx context.Context, w io.Writer, gitDir string, args ...string) error {
	full := args
	if gitDir != "" {
		full = append([]string{"--git-dir", gitDir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", full...)
	processes.Add(1)
	cmd.Env = append(os.Environ(), gitEnv...)
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
