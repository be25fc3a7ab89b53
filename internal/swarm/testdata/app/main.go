// Command app is the swarm package's own test image: a static binary that idles, reports health
// from SWARMTEST_UNHEALTHY, and reads and writes files so tests can check volumes, exec and copy
// without a shell in a scratch image.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
	case "healthcheck":
		if os.Getenv("SWARMTEST_UNHEALTHY") == "true" {
			fmt.Fprintln(os.Stderr, "unhealthy on purpose")
			os.Exit(1)
		}
	case "fail":
		fmt.Fprintln(os.Stderr, "failing on purpose")
		os.Exit(3)
	case "write":
		if err := os.WriteFile(args[1], []byte(args[2]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "cat":
		data, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(data)
	case "env":
		fmt.Println(os.Getenv(args[1]))
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting with", args[1])
		var code int
		fmt.Sscan(args[1], &code)
		os.Exit(code)
	default:
		fmt.Fprintln(os.Stderr, "unknown command", args[0])
		os.Exit(2)
	}
}
