package packaging

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ParseEnvFile reads a systemd EnvironmentFile: KEY=value lines, comments and blank lines
// ignored, one level of surrounding quotes removed.
func ParseEnvFile(text string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		env[strings.TrimSpace(key)] = value
	}
	return env
}

// UnitSettings returns the values of key in a unit file, in order, continuation lines joined.
func UnitSettings(text, key string) []string {
	var values []string
	lines, _ := JoinContinuations(text)
	for _, line := range lines {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && strings.TrimSpace(k) == key {
			values = append(values, strings.TrimSpace(v))
		}
	}
	return values
}

var (
	systemdBraced = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	systemdBare   = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
	systemdAny    = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
)

// ReferencedVariables returns the environment variables an ExecStart= command line uses.
func ReferencedVariables(command string) []string {
	seen := map[string]bool{}
	for _, m := range systemdAny.FindAllStringSubmatch(command, -1) {
		seen[m[1]] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ExpandExecWords applies systemd's rules for ExecStart= words (systemd.service(5), "Command
// lines"): "${VAR}" is replaced inside its word, a word that is exactly "$VAR" becomes the
// value split at whitespace (none when empty), and specifiers such as "%d" are replaced from
// specifiers. A variable missing from env is an error, since systemd would pass an empty word.
func ExpandExecWords(words []string, env, specifiers map[string]string) ([]string, error) {
	var out []string
	for _, w := range words {
		for spec, value := range specifiers {
			w = strings.ReplaceAll(w, spec, value)
		}
		if m := systemdBare.FindStringSubmatch(w); m != nil {
			value, ok := env[m[1]]
			if !ok {
				return nil, fmt.Errorf("variable %s is not set", m[1])
			}
			out = append(out, strings.Fields(value)...)
			continue
		}
		var missing []string
		w = systemdBraced.ReplaceAllStringFunc(w, func(ref string) string {
			name := systemdBraced.FindStringSubmatch(ref)[1]
			value, ok := env[name]
			if !ok {
				missing = append(missing, name)
			}
			return value
		})
		if len(missing) > 0 {
			return nil, fmt.Errorf("variable %s is not set", strings.Join(missing, ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// Unit is the part of a NixOS systemd.services or systemd.timers entry that the module sets,
// as the module evaluation prints it.
type Unit struct {
	Description   string            `json:"description"`
	WantedBy      []string          `json:"wantedBy"`
	Wants         []string          `json:"wants"`
	Requires      []string          `json:"requires"`
	After         []string          `json:"after"`
	Environment   map[string]string `json:"environment"`
	ServiceConfig map[string]any    `json:"serviceConfig"`
	TimerConfig   map[string]any    `json:"timerConfig"`
}

// Render writes the unit file NixOS would generate for u, following NixOS's conventions:
// lists become one line per element, booleans "true"/"false", environment entries
// Environment="K=V" lines. section is "Service" or "Timer".
func (u Unit) Render(section string) string {
	var b strings.Builder
	b.WriteString("[Unit]\n")
	writeSetting(&b, "Description", u.Description)
	for _, key := range []struct {
		name  string
		units []string
	}{{"Wants", u.Wants}, {"Requires", u.Requires}, {"After", u.After}} {
		if len(key.units) > 0 {
			writeSetting(&b, key.name, strings.Join(key.units, " "))
		}
	}
	fmt.Fprintf(&b, "\n[%s]\n", section)
	for _, k := range sortedKeys(u.Environment) {
		writeSetting(&b, "Environment", fmt.Sprintf("%q", k+"="+u.Environment[k]))
	}
	settings := u.ServiceConfig
	if section == "Timer" {
		settings = u.TimerConfig
	}
	for _, k := range sortedKeys(settings) {
		switch v := settings[k].(type) {
		case []any:
			for _, e := range v {
				writeSetting(&b, k, e)
			}
		default:
			writeSetting(&b, k, v)
		}
	}
	if len(u.WantedBy) > 0 {
		b.WriteString("\n[Install]\n")
		writeSetting(&b, "WantedBy", strings.Join(u.WantedBy, " "))
	}
	return b.String()
}

func writeSetting(b *strings.Builder, key string, value any) {
	switch v := value.(type) {
	case bool:
		fmt.Fprintf(b, "%s=%t\n", key, v)
	case float64:
		fmt.Fprintf(b, "%s=%d\n", key, int64(v))
	default:
		fmt.Fprintf(b, "%s=%v\n", key, v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
