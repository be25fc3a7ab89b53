package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// healthcheck asks the server's /healthz. It fails without asking when the app is configured
// unhealthy, so the container turns unhealthy even before the server listens.
func healthcheck(cfg config, url string) error {
	if cfg.Unhealthy {
		return fmt.Errorf("unhealthy (SAMPLE_UNHEALTHY=true)")
	}
	// Below the recipe's 5s healthcheck timeout, so we report rather than get killed; a loaded
	// 2-core host answers the local request in well over the second it was once given.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	return nil
}

// touchFiles creates each file and its parent directories, or updates its modification time.
func touchFiles(files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("missing FILE")
	}
	now := time.Now()
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return fmt.Errorf("create parent of %s: %w", f, err)
		}
		fh, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("touch %s: %w", f, err)
		}
		fh.Close()
		if err := os.Chtimes(f, now, now); err != nil {
			return fmt.Errorf("touch %s: %w", f, err)
		}
	}
	return nil
}

// filesExist fails naming the first file that does not exist.
func filesExist(files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("missing FILE")
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return err
		}
	}
	return nil
}

// catFiles copies each file to stdout.
func catFiles(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("missing FILE")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(data); err != nil {
			return err
		}
	}
	return nil
}
