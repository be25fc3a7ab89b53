package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/server"
)

// sweepLine is one object of a sweep, as printed and as the daemon returns it.
type sweepLine struct {
	Name     string  `json:"name"`
	Deployed string  `json:"deployed"`
	Desired  string  `json:"desired"`
	Action   string  `json:"action"`
	Seconds  float64 `json:"seconds"`
	Message  string  `json:"message,omitempty"`
	Failed   bool    `json:"failed"`
}

func toSweepLine(l controllers.SweepLine) sweepLine {
	msg := l.Message
	if l.Err != nil && msg == "" {
		msg = l.Err.Error()
	}
	return sweepLine{Name: l.Name, Deployed: l.Deployed, Desired: l.Desired, Action: string(l.Result),
		Seconds: l.Duration.Seconds(), Message: msg, Failed: l.Result.Failed()}
}

// remoteOptions are the flags of commands that may ask a running daemon instead.
type remoteOptions struct {
	Server    string
	TokenFile string
}

func (o *remoteOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Server, "server", "", "ask the daemon at this URL (e.g. http://127.0.0.1:8089) instead of acting in this process")
	cmd.Flags().StringVar(&o.TokenFile, "token-file", "", "file holding the daemon's bearer token (with --server)")
}

func (o *remoteOptions) token() (string, error) {
	if o.TokenFile == "" {
		return "", nil
	}
	token, err := secrets.ReadToken(o.TokenFile)
	if err != nil {
		return "", usageError(fmt.Errorf("--token-file: %w", err))
	}
	return token, nil
}

func newSweepCommand(g *globalOptions) *cobra.Command {
	o, r := &controllerOptions{}, &remoteOptions{}
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Converge every WarmCanonical once: test and promote new versions, report the rest",
		Long: `Sweep does one pass over every WarmCanonical, what a systemd timer runs. A version that needs
testing is tested and awaited within the pass; the runs go side by side, at most --max-runs at
once. Each run is printed to stderr as it is queued for a run slot and as it starts running
(with the runs running and queued then), and its tiers as they start and end. One line per
object is printed:

  NAME  DEPLOYED  DESIRED  ACTION  DURATION

ACTION is CONVERGED (already there: nothing written to Swarm), SKIP (suspended or data mode),
PROMOTED, APPLIED (the running version deployed again with an edited spec.env), HELD (a MAJOR
bump waiting for allowMajor), FAILED (tests red, promotion or apply failed, missing RecipeTest,
unknown version), ROLLED-BACK, INVALID (resource invalid) or ERROR.

Exit status: 0 when nothing failed (CONVERGED, SKIP, PROMOTED, APPLIED, HELD), 1 otherwise, 2 on
usage errors.`,
		Example: `  ccci-controller --resources /etc/ccci/resources --state /var/lib/ccci sweep
  ccci-controller sweep --server http://127.0.0.1:8089`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			var lines []sweepLine
			if r.Server != "" {
				token, err := r.token()
				if err != nil {
					return usageError(err)
				}
				if err := server.Post(cmd.Context(), r.Server, token, server.Trigger{Action: server.ActionSweep, Wait: true}, &lines); err != nil {
					return err
				}
				printSweepHeader(out)
				for _, l := range lines {
					printSweepLine(out, cmd.ErrOrStderr(), l)
				}
			} else {
				var err error
				if lines, err = sweepHere(cmd, g, o); err != nil {
					return err
				}
			}
			for _, l := range lines {
				if l.Failed {
					return &exitError{code: exitFailed}
				}
			}
			return nil
		},
	}
	o.addFlags(cmd)
	r.addFlags(cmd)
	return cmd
}

func sweepHere(cmd *cobra.Command, g *globalOptions, o *controllerOptions) ([]sweepLine, error) {
	ctx := cmd.Context()
	c, err := newController(ctx, g, o)
	if err != nil {
		return nil, err
	}
	defer c.finish()
	c.printProgress(cmd.ErrOrStderr())
	return c.sweep(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// sweep runs one pass, printing each line as soon as its object is done when out is set.
func (c *controller) sweep(ctx context.Context, out, errOut io.Writer) ([]sweepLine, error) {
	// A pass sees every recipe as it is now: each source is fetched once, at its first use.
	c.recipes.BeginPass()
	snapErr := c.cluster.Snapshot(ctx)
	if out != nil {
		printSweepHeader(out)
	}
	if snapErr != nil && errOut != nil {
		// Each object then observes its own stack, within the shorter read deadline, and a
		// hung engine ends the pass with an ERROR line per object rather than no line at all.
		fmt.Fprintf(errOut, "sweep: %v\n", snapErr)
	}
	var lines []sweepLine
	_, err := c.wc.Sweep(ctx, func(l controllers.SweepLine) {
		sl := toSweepLine(l)
		lines = append(lines, sl)
		if out != nil {
			printSweepLine(out, errOut, sl)
		}
	})
	return lines, err
}

const sweepFormat = "%-24s %-20s %-20s %-12s %s\n"

func printSweepHeader(w io.Writer) {
	fmt.Fprintf(w, sweepFormat, "NAME", "DEPLOYED", "DESIRED", "ACTION", "DURATION")
}

func printSweepLine(w, errOut io.Writer, l sweepLine) {
	d := time.Duration(l.Seconds * float64(time.Second)).Round(100 * time.Millisecond)
	fmt.Fprintf(w, sweepFormat, l.Name, orDash(l.Deployed), orDash(l.Desired), l.Action, d)
	if l.Failed && l.Message != "" {
		fmt.Fprintf(errOut, "%s: %s\n", l.Name, l.Message)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
