package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/spf13/cobra"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/server"
	"coopcloud.tech/ccci-controller/internal/store"
)

const suspendLong = `Suspend stops the controller from changing a WarmCanonical: no test run, promotion, rollback
or undeploy starts for it until resume. What runs keeps running; a reconcile already under way
finishes.

spec.suspend belongs to the resource files, i.e. to git. Like flux suspend, this command does not
edit them: it records an override in the state directory (status/Suspension/NAME.json), which
get, describe, the API and the dashboard show. The object is suspended while spec.suspend or
the override says so; resume removes the override only.

Without --server the override is written here and a running daemon applies it at the object's
next reconcile; with --server the daemon records it and reconciles the object at once.`

func newSuspendCommand(g *globalOptions) *cobra.Command {
	r := &remoteOptions{}
	var reason, by string
	cmd := &cobra.Command{
		Use:   "suspend NAME --reason TEXT",
		Short: "Suspend a WarmCanonical: no test, promotion or rollback until resume",
		Long:  suspendLong,
		Example: `  ccci-controller suspend gitea --reason "migrating the database by hand"
  ccci-controller suspend gitea --reason "incident 42" --server http://127.0.0.1:8089 --token-file /run/ccci/token`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usageError(errors.New("--reason is required: say why, for whoever finds the app suspended"))
			}
			if by == "" {
				by = currentUser()
			}
			s, err := suspenderFor(g, r)
			if err != nil {
				return err
			}
			if err := s.Suspend(cmd.Context(), args[0], reason, by); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "WarmCanonical %s suspended: %s\n", args[0], reason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	cmd.Flags().StringVar(&by, "by", "", "who (default: the current user)")
	r.addFlags(cmd)
	return cmd
}

func newResumeCommand(g *globalOptions) *cobra.Command {
	r := &remoteOptions{}
	cmd := &cobra.Command{
		Use:   "resume NAME",
		Short: "Lift a suspension made with suspend",
		Long: `Resume removes the override suspend recorded in the state directory; the next reconcile acts again.
A WarmCanonical whose spec.suspend is true stays suspended: that is changed in its resource file.`,
		Example: `  ccci-controller resume gitea`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := suspenderFor(g, r)
			if err != nil {
				return err
			}
			ok, err := s.Resume(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintf(cmd.OutOrStdout(), "WarmCanonical %s was not suspended by suspend (spec.suspend, if true, is in its resource file)\n", args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "WarmCanonical %s resumed\n", args[0])
			return nil
		},
	}
	r.addFlags(cmd)
	return cmd
}

// suspenderFor is the daemon with --server, else the state directory here.
func suspenderFor(g *globalOptions, r *remoteOptions) (server.Suspender, error) {
	if r.Server != "" {
		return r.client()
	}
	st, err := store.Open(g.State)
	if err != nil {
		return nil, fmt.Errorf("open state directory: %w", err)
	}
	return &localSuspender{objects: &controllers.Dir{Root: g.Resources}, store: st}, nil
}

// localSuspender writes the override into the state directory of this host.
type localSuspender struct {
	objects *controllers.Dir
	store   *store.Store
}

func (s *localSuspender) exists(name string) error {
	obj, err := s.objects.Get(v1.KindWarmCanonical, name)
	if err == nil && obj == nil {
		return fmt.Errorf("WarmCanonical %q is not defined in %s (valid: the name of a WarmCanonical; see ccci-controller get wc)", name, s.objects.Root)
	}
	return nil
}

func (s *localSuspender) Suspend(_ context.Context, name, reason, by string) error {
	if err := s.exists(name); err != nil {
		return err
	}
	return controllers.Suspend(s.store, name, controllers.Suspension{Reason: reason, By: by})
}

func (s *localSuspender) Resume(_ context.Context, name string) (bool, error) {
	if err := s.exists(name); err != nil {
		return false, err
	}
	return controllers.Resume(s.store, name)
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// describeSuspension prints the operator's suspension of a WarmCanonical, if any (describe).
func describeSuspension(w io.Writer, st *store.Store, name string) {
	sp, err := controllers.SuspensionOf(st, name)
	if err != nil || sp == nil {
		return
	}
	by := ""
	if sp.By != "" {
		by = " by " + sp.By
	}
	fmt.Fprintf(w, "Suspended:\n  Since %s%s: %s (ccci-controller resume %s lifts it)\n", sp.Since.UTC().Format("2006-01-02 15:04:05"), by, sp.Reason, name)
}
