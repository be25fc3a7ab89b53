package tiers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Command is a command of a custom tier, run on the controller host.
type Command struct {
	// Args is the program and its arguments; Args[0] is looked up in PATH.
	Args []string
	// Dir is the working directory (the recipe checkout).
	Dir string
	// Env is added to the controller's own environment.
	Env map[string]string
	// Timeout bounds the whole process group; zero means only ctx bounds it.
	Timeout time.Duration
}

// waitDelay is how long Wait still waits for the output pipes after the process group was killed.
const waitDelay = 2 * time.Second

// RunCommand runs c in its own process group with stdout and stderr written to out, and kills the
// whole group (SIGKILL to -pgid) when the timeout passes or ctx ends, so a test that forked
// helpers (a browser, a server) leaves nothing running. It returns nil on exit code 0; a killed
// command's error wraps the context's error (context.DeadlineExceeded at the timeout).
func RunCommand(ctx context.Context, c Command, out io.Writer) error {
	if len(c.Args) == 0 {
		return errors.New("run command: no command given")
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = os.Environ()
	for k, v := range c.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// exec.CommandContext kills only the direct child; grandchildren would keep running and
	// hold the output pipe open, so the whole group goes.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	name := strings.Join(c.Args, " ")
	err := cmd.Run()
	if cmd.Process != nil {
		// A child may have left grandchildren behind even on a clean exit.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil && ctx.Err() != nil {
		// Killed by us: say why rather than "signal: killed".
		return fmt.Errorf("command %q killed: %w", name, ctx.Err())
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("command %q exited with code %d", name, exit.ExitCode())
		}
		return fmt.Errorf("command %q: %w", name, err)
	}
	return nil
}
