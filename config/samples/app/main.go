package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// listenAddr is fixed: the recipe publishes no ports (no ingress without IPVS), so only the
// healthcheck and exec'd tools inside the container talk to it.
const listenAddr = ":8080"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := configFromEnv()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(cfg)
	case "healthcheck":
		err = healthcheck(cfg, "http://127.0.0.1"+listenAddr+"/healthz")
	case "version":
		_, err = fmt.Fprintln(stdout, cfg.Version)
	case "state":
		err = stateCommand(cfg, args, stdout)
	case "touch":
		err = touchFiles(args)
	case "exists":
		err = filesExist(args)
	case "cat":
		err = catFiles(args, stdout)
	default:
		err = fmt.Errorf("unknown command %q (valid: serve, healthcheck, version, state, touch, exists, cat)", cmd)
	}
	if err != nil {
		fmt.Fprintf(stderr, "app %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// serve runs the HTTP server until SIGTERM or SIGINT, then shuts down gracefully so Swarm's
// stop is quick.
func serve(cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := &http.Server{Addr: listenAddr, Handler: newServer(cfg), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	// SAMPLE_CRASH_AFTER makes a release that converges, then crashes: what a soak must catch.
	var crash <-chan time.Time
	if cfg.CrashAfter > 0 {
		crash = time.After(cfg.CrashAfter)
	}
	select {
	case err := <-errc:
		return err
	case <-crash:
		return fmt.Errorf("crashing after %s (SAMPLE_CRASH_AFTER)", cfg.CrashAfter)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
