package tiers

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/shlex"

	"coopcloud.tech/ccci-controller/internal/backup"
)

// Shells a hook can run through, in the order they are preferred.
const (
	shellBash = "/bin/bash"
	shellSh   = "/bin/sh"
)

// hookArgv turns a backupbot hook into the argv to exec, given the shell the container has
// (shellBash, shellSh or "" for none). backupbot runs hooks through a shell. With bash, pipefail
// is on, because `pg_dump … | gzip > file` must not pass when pg_dump fails: an empty dump is
// silent data loss. An image without a shell (scratch) gets the hook split into words as a
// shell would (quotes group, no variables, globs, pipes or redirections) and exec'd directly.
func hookArgv(hook, shell string) ([]string, error) {
	switch shell {
	case shellBash:
		return []string{shellBash, "-o", "pipefail", "-c", hook}, nil
	case shellSh:
		return []string{shellSh, "-c", hook}, nil
	}
	if strings.ContainsAny(hook, "|&;<>$`\n") {
		return nil, fmt.Errorf("hook %q needs a shell, and the container has neither %s nor %s", hook, shellBash, shellSh)
	}
	argv, err := shlex.Split(hook)
	if err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("hook %q cannot be split into words: %v", hook, err)
	}
	return argv, nil
}

// shellOf finds the shell of a running container of the service.
func (x *execution) shellOf(ctx context.Context, stack, service string) (string, error) {
	for _, sh := range []string{shellBash, shellSh} {
		ok, err := x.r.swarm.HasFile(ctx, stack, service, sh)
		if err != nil {
			return "", err
		}
		if ok {
			return sh, nil
		}
	}
	return "", nil
}

// runHooks runs the plan's hooks with the label key, one after the other, each in a running
// container of the service declaring it. The first that fails ends the tier: its error names
// the hook, the service, the exit code and the tail of its stderr.
func (x *execution) runHooks(ctx context.Context, l *tierLog, stack string, p backup.Plan, label string) error {
	for _, h := range p.HooksFor(label) {
		if err := x.runHook(ctx, l, stack, h); err != nil {
			return err
		}
	}
	return nil
}

func (x *execution) runHook(ctx context.Context, l *tierLog, stack string, h backup.Hook) error {
	shell, err := x.shellOf(ctx, stack, h.Service)
	if err != nil {
		return fmt.Errorf("run %s %q in service %s: %w", h.Label, h.Command, h.Service, err)
	}
	argv, err := hookArgv(h.Command, shell)
	if err != nil {
		return fmt.Errorf("run %s in service %s: %w", h.Label, h.Service, err)
	}
	res, err := x.r.swarm.Exec(ctx, stack, h.Service, argv)
	if err != nil {
		return fmt.Errorf("run %s %q in service %s: %w", h.Label, h.Command, h.Service, err)
	}
	l.Printf("hook %s in service %s: %q: exit code %d", h.Label, h.Service, argv, res.ExitCode)
	l.Block("stdout", res.Stdout)
	l.Block("stderr", res.Stderr)
	if res.ExitCode != 0 {
		return fmt.Errorf("%s %q in service %s exited with code %d: %s", h.Label, h.Command, h.Service, res.ExitCode, tail(res.Stderr))
	}
	return nil
}

// tail returns the last lines of a command's output, enough to see why it failed.
func tail(s string) string {
	const maxLines, maxBytes = 5, 600
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no output on stderr)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	s = strings.Join(lines, " | ")
	if len(s) > maxBytes {
		s = "…" + s[len(s)-maxBytes:]
	}
	return s
}
