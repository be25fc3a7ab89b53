package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// daemonFile is the daemon's note, in its state directory, of the resources directory it
// watches and the address it listens on. A command run on the same state directory without
// --resources (or CCCI_RESOURCES) reads the daemon's resources from it: after
// `make demo` (run --resources config/samples --state .state), a bare `get` shows the demo's
// objects instead of failing on a "resources" directory that does not exist.
const daemonFile = "daemon.json"

// daemonRecord is the content of daemonFile.
type daemonRecord struct {
	// Resources is the absolute path of the daemon's --resources.
	Resources string `json:"resources"`
	// Listen is the daemon's --listen address.
	Listen string `json:"listen"`
}

// writeDaemonRecord notes the daemon's resources and address in stateDir, whole or not at all.
func writeDaemonRecord(stateDir, resources, listen string) error {
	abs, err := filepath.Abs(resources)
	if err != nil {
		return fmt.Errorf("write %s: %w", daemonFile, err)
	}
	data, err := json.MarshalIndent(daemonRecord{Resources: abs, Listen: listen}, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", daemonFile, err)
	}
	tmp := filepath.Join(stateDir, "."+daemonFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		_ = os.Remove(tmp) // a full disk leaves a part written
		return fmt.Errorf("write %s: %w", daemonFile, err)
	}
	if err := os.Rename(tmp, filepath.Join(stateDir, daemonFile)); err != nil {
		return fmt.Errorf("write %s: %w", daemonFile, err)
	}
	return nil
}

// resourcesFromDaemon sets o.Resources to the daemon's when neither --resources nor
// CCCI_RESOURCES gave one and the state directory holds a daemon's note. An unreadable or
// foreign note is ignored: the default stays, and its error says what is missing.
func (o *globalOptions) resourcesFromDaemon(cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("resources"); f == nil || f.Changed || os.Getenv(envResources) != "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(o.State, daemonFile))
	if err != nil {
		return
	}
	var rec daemonRecord
	if json.Unmarshal(data, &rec) != nil || rec.Resources == "" {
		return
	}
	o.Resources = rec.Resources
}
