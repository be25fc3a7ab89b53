package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// composeLabels is the part of a compose file backupCapable looks at. Labels are either a map
// or a list of "key=value" strings, so they are decoded loosely.
type composeLabels struct {
	Services map[string]struct {
		Labels any `json:"labels"`
		Deploy struct {
			Labels any `json:"labels"`
		} `json:"deploy"`
	} `json:"services"`
}

// backupCapable reports whether a service of the compose files has backupbot.backup=true, in
// deploy.labels (where backupbot reads it in swarm) or labels.
func backupCapable(dir string, files []string) (bool, error) {
	found := false
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return false, fmt.Errorf("read compose file %q: %w", f, err)
		}
		var c composeLabels
		if err := yaml.Unmarshal(data, &c); err != nil {
			return false, fmt.Errorf("compose file %q is not valid YAML: %w", f, err)
		}
		for _, s := range c.Services {
			if labelTrue(s.Labels, v1.LabelBackup) || labelTrue(s.Deploy.Labels, v1.LabelBackup) {
				found = true
			}
		}
	}
	return found, nil
}

// labelTrue reports whether labels (map or list form) set key to a true value.
func labelTrue(labels any, key string) bool {
	switch l := labels.(type) {
	case map[string]any:
		v, ok := l[key]
		return ok && isTrue(fmt.Sprint(v))
	case []any:
		for _, item := range l {
			k, v, _ := strings.Cut(fmt.Sprint(item), "=")
			if strings.TrimSpace(k) == key && isTrue(v) {
				return true
			}
		}
	}
	return false
}

func isTrue(s string) bool {
	return strings.EqualFold(strings.Trim(strings.TrimSpace(s), `"'`), "true")
}
