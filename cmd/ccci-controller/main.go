package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// What the commands print (tier tables, progress, errors) quotes recipes and Swarm, so a
	// secret value may be in it.
	code := run(ctx, os.Args[1:], secrets.Writer(os.Stdout), secrets.Writer(os.Stderr))
	stop()
	os.Exit(code)
}

// run wires the commands and returns the process exit code. Adding a command is one line here.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts := &globalOptions{}
	root := newRootCommand(opts)
	root.AddCommand(newValidateCommand(opts))
	root.AddCommand(newVersionCommand(opts))
	root.AddCommand(newRunCommand(opts), newSweepCommand(opts), newReconcileCommand(opts), newTriggerCommand(opts), newGetCommand(opts), newDescribeCommand(opts))
	root.AddCommand(newPlanCommand(opts), newSuspendCommand(opts), newResumeCommand(opts), newLogsCommand(opts))
	root.AddCommand(newImportCommand())
	return execute(ctx, root, args, stdout, stderr)
}
