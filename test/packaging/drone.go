package packaging

import (
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// dronePipeline is the part of a .drone.yml document the checks read.
type dronePipeline struct {
	Kind  string `json:"kind"`
	Steps []struct {
		Name     string   `json:"name"`
		Commands []string `json:"commands"`
	} `json:"steps"`
}

// DroneCommands returns the shell scripts of every step of a single-document .drone.yml as the
// runner would execute them: Drone's "$$" escape already turned into "$".
func DroneCommands(data []byte) (map[string][]string, error) {
	var p dronePipeline
	if err := yaml.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse drone pipeline: %w", err)
	}
	if p.Kind != "pipeline" {
		return nil, fmt.Errorf("parse drone pipeline: kind %q, want pipeline", p.Kind)
	}
	scripts := map[string][]string{}
	for _, s := range p.Steps {
		for _, c := range s.Commands {
			scripts[s.Name] = append(scripts[s.Name], strings.ReplaceAll(c, "$$", "$"))
		}
	}
	return scripts, nil
}
