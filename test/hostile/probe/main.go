package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe check | probe attack HOSTFILE...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "check":
		err = check()
	case "attack":
		err = attack(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (valid: check, attack)", os.Args[1])
	}
	// A moment alive, so a spec can read the running service's spec from Docker.
	time.Sleep(3 * time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

// check reads the recipe's marker, asks the app for its version by service name (tasks.app:
// the stack's service has no virtual IP) and writes both into the artifacts directory.
func check() error {
	marker, err := os.ReadFile(filepath.Join(os.Getenv("RECIPE_DIR"), "tests", "marker.txt"))
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var body []byte
	for i := 0; ; i++ {
		resp, err := client.Get("http://tasks.app:8080/version")
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("GET /version: %s", resp.Status)
		}
		if i == 20 {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
	out := os.Getenv("ARTIFACTS_DIR")
	if err := os.MkdirAll(filepath.Join(out, "check"), 0o755); err != nil {
		return err
	}
	report := fmt.Sprintf("marker=%s\napp=%s\nstack=%s\nuid=%d\n", marker, body, os.Getenv("STACK_NAME"), os.Getuid())
	return os.WriteFile(filepath.Join(out, "check", "report.txt"), []byte(report), 0o644)
}

// attack tries to write into the recipe, read each host file and find the Docker socket,
// writes what happened into the artifacts directory, and succeeds if any attempt did.
func attack(hostFiles []string) error {
	var log []string
	won := false
	note := func(what string, err error) {
		if err == nil {
			won = true
			log = append(log, what+": succeeded")
			return
		}
		log = append(log, what+": "+err.Error())
	}
	note("write recipe", os.WriteFile(filepath.Join(os.Getenv("RECIPE_DIR"), "pwned"), []byte("pwned"), 0o644))
	for _, f := range hostFiles {
		b, err := os.ReadFile(f)
		if err == nil {
			log = append(log, "content "+string(b))
		}
		note("read "+f, err)
	}
	_, err := os.Stat("/var/run/docker.sock")
	note("stat docker socket", err)
	out := ""
	for _, l := range log {
		out += l + "\n"
	}
	fmt.Print(out)
	if err := os.WriteFile(filepath.Join(os.Getenv("ARTIFACTS_DIR"), "attempts.txt"), []byte(out), 0o644); err != nil {
		return err
	}
	if !won {
		return errors.New("every attempt failed")
	}
	return nil
}
