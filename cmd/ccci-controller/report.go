package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/secrets"
	"coopcloud.tech/ccci-controller/internal/server"
)

// junitSource renders the JUnit report of a finished run: from the local state directory, or
// from the daemon that ran it (--server). Both give the report GET /runs/{id}/junit.xml serves.
type junitSource func(ctx context.Context, runID string) ([]byte, error)

func localJUnit(st server.State) junitSource {
	return func(ctx context.Context, id string) ([]byte, error) {
		var buf bytes.Buffer
		err := server.WriteJUnit(ctx, st, id, &buf)
		return buf.Bytes(), err
	}
}

func remoteJUnit(c *server.Client) junitSource { return c.JUnit }

// writeJUnit writes the report of run id to --junit, if given; a CI reads the file after the
// command exits, red or green, so it is written before the verdict decides the exit status.
func (t *triggerOptions) writeJUnit(ctx context.Context, report junitSource, id string) error {
	if t.JUnit == "" {
		return nil
	}
	data, err := report(ctx, id)
	if err != nil {
		return fmt.Errorf("write --junit %s: %w", t.JUnit, err)
	}
	// Like every text that leaves the product: a secret this process saw never reaches a CI.
	data = secrets.RedactBytes(data)
	// Written whole or not at all: a CI must not parse half a report.
	tmp, err := os.CreateTemp(filepath.Dir(t.JUnit), "."+filepath.Base(t.JUnit)+".*")
	if err != nil {
		return fmt.Errorf("write --junit %s: %w", t.JUnit, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), t.JUnit)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write --junit %s: %w", t.JUnit, err)
	}
	return nil
}

// print prints the run as the tier table or, with -o json, as its record.
func (t *triggerOptions) print(w io.Writer, name string, run v1.Run) error {
	if t.Output != outputJSON {
		printRun(w, name, run)
		return nil
	}
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return fmt.Errorf("print run %s: %w", run.ID, err)
	}
	_, err = w.Write(append(secrets.RedactBytes(data), '\n'))
	return err
}
