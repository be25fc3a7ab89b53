package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes of the process.
const (
	exitOK = 0
	// exitFailed is a command that could not do its work, or a red test run.
	exitFailed = 1
	// exitInvalid is invalid input: resource files for validate, or a wrong flag or argument.
	exitInvalid = 2
)

// exitError makes the process exit with code. Commands return it instead of calling os.Exit,
// so that deferred clean-up runs and tests can call them in-process. The command has already
// printed what the user needs to know; err, when set, is printed too.
type exitError struct {
	code int
	err  error
	// usage adds a pointer to --help: the mistake is in the command line.
	usage bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake in flags or arguments.
func usageError(err error) error { return &exitError{code: exitInvalid, err: err, usage: true} }

// execute runs root with args and maps its error to an exit code, printing the error once.
func execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitFailed, err: err}
	}
	if ee.err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", root.Name(), ee.err)
		if ee.usage {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", root.CommandPath())
		}
	}
	return ee.code
}
