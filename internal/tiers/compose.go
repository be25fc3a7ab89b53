package tiers

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

// appService is the service abra reads a stack's version from.
const appService = "app"

// service is what the tiers need of a compose service, read from a loaded stack so this package
// never names Docker's compose types.
type service struct {
	Name   string
	Image  string
	Labels map[string]string // deploy labels
	// Mounts are the container paths of the service's named and anonymous volumes.
	Mounts []string
	// Refs are the top-level objects the service refers to, by kind ("secret", "config",
	// "network", "volume") and compose key.
	Refs map[string][]string
}

// defined lists a stack's top-level secrets, configs, networks and volumes by kind and key.
func defined(st *swarm.Stack) map[string][]string {
	out := map[string][]string{}
	for k := range st.Config.Secrets {
		out["secret"] = append(out["secret"], k)
	}
	for k := range st.Config.Configs {
		out["config"] = append(out["config"], k)
	}
	for k := range st.Config.Networks {
		out["network"] = append(out["network"], k)
	}
	for k := range st.Config.Volumes {
		out["volume"] = append(out["volume"], k)
	}
	return out
}

// objectFile is a config or secret backed by a file of the recipe.
type objectFile struct {
	Kind, Key string // "config"/"secret" and the compose key
	Name      string // interpolated Swarm name
	Template  string // the name as written, ${VARS} and all
	File      string // path relative to the recipe
	Content   []byte
}

func servicesOf(st *swarm.Stack) []service {
	var out []service
	for _, s := range st.Config.Services {
		svc := service{Name: s.Name, Image: s.Image, Labels: map[string]string{}}
		for k, v := range s.Deploy.Labels {
			svc.Labels[k] = v
		}
		svc.Refs = map[string][]string{}
		for _, m := range s.Volumes {
			if m.Type == "volume" {
				svc.Mounts = append(svc.Mounts, path.Clean(m.Target))
				if m.Source != "" {
					svc.Refs["volume"] = append(svc.Refs["volume"], m.Source)
				}
			}
		}
		for _, r := range s.Secrets {
			svc.Refs["secret"] = append(svc.Refs["secret"], r.Source)
		}
		for _, r := range s.Configs {
			svc.Refs["config"] = append(svc.Refs["config"], r.Source)
		}
		for n := range s.Networks {
			svc.Refs["network"] = append(svc.Refs["network"], n)
		}
		for _, refs := range svc.Refs {
			slices.Sort(refs)
		}
		out = append(out, svc)
	}
	slices.SortFunc(out, func(a, b service) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// objectFilesOf reads the file-backed configs and secrets of a loaded stack; raw holds the names
// as written in the compose files (see rawNames).
func objectFilesOf(st *swarm.Stack, raw map[string]map[string]string) ([]objectFile, error) {
	var out []objectFile
	add := func(kind, key, name, file string, external bool) error {
		if external || file == "" {
			return nil
		}
		abs := file
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(st.WorkingDir, file)
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return fmt.Errorf("read %s %q: %w", kind, key, err)
		}
		rel, err := filepath.Rel(st.WorkingDir, abs)
		if err != nil {
			rel = abs
		}
		out = append(out, objectFile{Kind: kind, Key: key, Name: name, Template: raw[kind][key], File: rel, Content: data})
		return nil
	}
	for key, c := range st.Config.Configs {
		if err := add("config", key, c.Name, c.File, c.External.External); err != nil {
			return nil, err
		}
	}
	for key, s := range st.Config.Secrets {
		if err := add("secret", key, s.Name, s.File, s.External.External); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b objectFile) int { return strings.Compare(a.Kind+"/"+a.Key, b.Kind+"/"+b.Key) })
	return out, nil
}

// rawNames returns the uninterpolated name: of every config and secret of the compose files,
// by kind and key; a later file overrides an earlier one, as the compose merge does.
func rawNames(dir string, files []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{"config": {}, "secret": {}}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("read compose file: %w", err)
		}
		var doc struct {
			Configs map[string]struct {
				Name string `json:"name"`
			} `json:"configs"`
			Secrets map[string]struct {
				Name string `json:"name"`
			} `json:"secrets"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: parse yaml: %w", f, err)
		}
		for k, c := range doc.Configs {
			if c.Name != "" {
				out["config"][k] = c.Name
			}
		}
		for k, s := range doc.Secrets {
			if s.Name != "" {
				out["secret"][k] = s.Name
			}
		}
	}
	return out, nil
}
