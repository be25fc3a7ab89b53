package swarm

import (
	"regexp"
	"strings"
)

// templateVar matches $VAR, ${VAR} and ${VAR<modifier>...} in a compose value.
var templateVar = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))`)

// versionVariable returns the variable an operator bumps to give a config or secret a new
// name, read from the raw name template of the compose file: of the variables in it other than
// STACK_NAME, the last whose name ends in VERSION, else the last one. It returns "" when the
// name holds no such variable.
func versionVariable(template string) string {
	var vars []string
	for _, m := range templateVar.FindAllStringSubmatch(strings.ReplaceAll(template, "$$", ""), -1) {
		v := m[1] + m[2]
		if v != "STACK_NAME" {
			vars = append(vars, v)
		}
	}
	for i := len(vars) - 1; i >= 0; i-- {
		if strings.HasSuffix(vars[i], "VERSION") {
			return vars[i]
		}
	}
	if len(vars) > 0 {
		return vars[len(vars)-1]
	}
	return ""
}

// envName turns a compose key into the upper-case stem abra uses for its variables:
// db_password -> DB_PASSWORD.
func envName(key string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}
