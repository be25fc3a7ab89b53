package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version may be set at link time (-ldflags "-X main.version=1.2.3") by builds without VCS
// information, such as Nix; otherwise the module version from the build info is shown.
var version string

func newVersionCommand(_ *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and Go version of this binary",
		Example: "  ccci-controller version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := readBuildInfo()
			fmt.Fprintf(cmd.OutOrStdout(), "ccci-controller %s\ncommit: %s\ngo: %s\n", info.version, info.commit, info.goVersion)
			return nil
		},
	}
}

type buildInfo struct {
	version, commit, goVersion string
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: "(devel)", commit: "unknown", goVersion: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.goVersion = info.GoVersion
	if info.Main.Version != "" {
		b.version = info.Main.Version
	}
	if version != "" {
		b.version = version
	}
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.commit != "unknown" {
		b.commit += " (modified)"
	}
	return b
}
