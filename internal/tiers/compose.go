package tiers

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
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

// backupTarget is a service to back up and the container paths to save.
type backupTarget struct {
	Service string
	Paths   []string
	// MarkerDir is where the restore tier writes its marker: the app's persistent data.
	MarkerDir string
	Hooks     map[string]string // label key → command
}

// backupTargets lists the services labelled backupbot.backup=true with the paths to save: the
// comma-separated backupbot.backup.path, else the service's volume mounts.
func backupTargets(services []service) []backupTarget {
	var out []backupTarget
	for _, s := range services {
		if !strings.EqualFold(strings.TrimSpace(s.Labels[v1.LabelBackup]), "true") {
			continue
		}
		t := backupTarget{Service: s.Name, Hooks: map[string]string{}}
		for _, p := range strings.Split(s.Labels[v1.LabelBackupPath], ",") {
			if p = strings.TrimSpace(p); p != "" {
				t.Paths = append(t.Paths, path.Clean(p))
			}
		}
		if len(t.Paths) == 0 {
			t.Paths = slices.Clone(s.Mounts)
		}
		t.MarkerDir = markerDir(t.Paths, s.Mounts)
		for _, k := range []string{v1.LabelBackupPreHook, v1.LabelBackupPostHook, v1.LabelRestorePreHook, v1.LabelRestorePostHook} {
			if h := strings.TrimSpace(s.Labels[k]); h != "" {
				t.Hooks[k] = h
			}
		}
		out = append(out, t)
	}
	return out
}

// checkTargets rejects a backup without a service or a service without anything to save.
func checkTargets(targets []backupTarget) error {
	if len(targets) == 0 {
		return fmt.Errorf("no service has %s=true", v1.LabelBackup)
	}
	for _, t := range targets {
		if len(t.Paths) == 0 {
			return fmt.Errorf("service %s has %s=true but neither %s nor a volume: nothing to back up", t.Service, v1.LabelBackup, v1.LabelBackupPath)
		}
	}
	return nil
}

// markerDir picks where the restore tier's marker goes so that it tests what matters: the app's
// persistent data, i.e. its volumes. The first backup path inside a volume carries it (that
// data is saved); when no backup path lies in any volume, the first volume's root does, so a
// backup that misses the volumes loses the marker; a service without volumes uses its first
// backup path.
func markerDir(paths, mounts []string) string {
	for _, p := range paths {
		for _, m := range mounts {
			if within(p, m) {
				return p
			}
		}
	}
	if len(mounts) > 0 {
		return mounts[0]
	}
	if len(paths) > 0 {
		return paths[0]
	}
	return ""
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// hookArgv turns a backupbot hook into the argv to exec. backupbot runs hooks through a shell;
// a scratch image has none, so a hook without shell syntax is split into words and run
// directly, and only a hook that needs a shell gets one.
func hookArgv(hook string) []string {
	if strings.ContainsAny(hook, "|&;<>()$`\\\"'*?[]#{}\n") {
		return []string{"/bin/sh", "-c", hook}
	}
	return strings.Fields(hook)
}
