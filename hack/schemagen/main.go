package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	src := flag.String("src", ".", "directory of the api/v1 Go sources, for the doc comments")
	out := flag.String("out", "../../config/schema", "directory to write the schemas to")
	flag.Parse()
	if err := write(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func write(src, out string) error {
	files, err := Generate(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return fmt.Errorf("write schema %s: %w", name, err)
		}
	}
	return nil
}
