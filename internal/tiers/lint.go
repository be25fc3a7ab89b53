package tiers

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// lintImages reports every service whose image is not pinned: no tag (Docker would pull
// latest), or the tag latest. A digest pins an image whatever its tag.
func lintImages(services []service) []string {
	var problems []string
	for _, s := range services {
		ref := s.Image
		if strings.Contains(ref, "@") {
			continue
		}
		name, tag := ref, ""
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			name, tag = ref[:i], ref[i+1:]
		}
		switch {
		case tag == "":
			problems = append(problems, fmt.Sprintf("services.%s.image %q has no tag; pin a version such as %s:1.2.3", s.Name, ref, name))
		case tag == "latest":
			problems = append(problems, fmt.Sprintf("services.%s.image %q uses latest; pin a version", s.Name, ref))
		}
	}
	return problems
}

// lintReferences reports every secret, config, network or named volume a service uses that the
// compose files do not define: the loader accepts such files, but converting them for Swarm (and
// so the deploy) fails. The network "default" needs no definition.
func lintReferences(services []service, defs map[string][]string) []string {
	var problems []string
	for _, s := range services {
		for _, kind := range []string{"secret", "config", "network", "volume"} {
			for _, ref := range s.Refs[kind] {
				if slices.Contains(defs[kind], ref) || (kind == "network" && ref == "default") {
					continue
				}
				problems = append(problems, fmt.Sprintf("services.%s uses %s %q, which is not defined under %ss", s.Name, kind, ref, kind))
			}
		}
	}
	return problems
}

// lintVersionLabel checks the app service's coop-cloud.${STACK_NAME}.version deploy label. For
// a tag under test it must equal the tag. For a ref that is not a tag (a branch or a pull
// request) there is no tag to equal, so the label must be a version no older than the newest
// tag (a release in preparation or the current one); note says what was compared.
func lintVersionLabel(stack string, services []service, tag, ref, newest string) (problem, note string) {
	key := v1.VersionLabel(stack)
	i := slices.IndexFunc(services, func(s service) bool { return s.Name == appService })
	if i < 0 {
		return fmt.Sprintf("no service %q: abra reads the deployed version from its label coop-cloud.${STACK_NAME}.version", appService), ""
	}
	label, ok := services[i].Labels[key]
	if !ok {
		return fmt.Sprintf("services.%s.deploy.labels has no coop-cloud.${STACK_NAME}.version; want %q", appService, want(tag, newest)), ""
	}
	if tag != "" {
		if label != tag {
			return fmt.Sprintf("services.%s.deploy.labels coop-cloud.${STACK_NAME}.version is %q, want the tag under test %q", appService, label, tag), ""
		}
		return "", fmt.Sprintf("version label %q equals the tag under test", label)
	}
	note = fmt.Sprintf("ref %q is not a tag: compared the version label %q with the newest tag %q", ref, label, newest)
	lv, err := recipe.ParseVersion(label)
	if err != nil {
		return fmt.Sprintf("services.%s.deploy.labels coop-cloud.${STACK_NAME}.version %q is not a version such as 1.2.3+4.5 (%s)", appService, label, note), note
	}
	if newest == "" {
		return "", note
	}
	if nv, err := recipe.ParseVersion(newest); err == nil && recipe.Compare(lv, nv) < 0 {
		return fmt.Sprintf("services.%s.deploy.labels coop-cloud.${STACK_NAME}.version %q is older than the newest tag %q", appService, label, newest), note
	}
	return "", note
}

func want(tag, newest string) string {
	if tag != "" {
		return tag
	}
	return "a version no older than " + newest
}

// composeVar matches ${VAR}, ${VAR:-default} and $VAR in a compose value.
var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// lintImmutable reports every config or secret file whose content differs from the base
// version's while its Swarm name stayed the same: Swarm objects are immutable, so the upgrade
// would be refused (or, worse, keep the old content). The message names the variable in the
// name to bump (any of them but STACK_NAME).
func lintImmutable(candidate, base []objectFile, baseVersion string) []string {
	var problems []string
	for _, c := range candidate {
		i := slices.IndexFunc(base, func(b objectFile) bool { return b.Kind == c.Kind && b.Key == c.Key })
		if i < 0 || base[i].Name != c.Name || bytes.Equal(base[i].Content, c.Content) {
			continue
		}
		section := c.Kind + "s"
		var vars []string
		for _, m := range composeVar.FindAllStringSubmatch(c.Template, -1) {
			v := m[1] + m[2]
			if v != "STACK_NAME" && !slices.Contains(vars, v) {
				vars = append(vars, v)
			}
		}
		var fix string
		switch len(vars) {
		case 0:
			fix = fmt.Sprintf("give %s.%s a versioned name such as ${STACK_NAME}_%s_${%s_VERSION}", section, c.Key, c.Key, strings.ToUpper(c.Key))
		case 1:
			fix = "bump " + vars[0]
		default:
			fix = "bump one of " + strings.Join(vars, ", ")
		}
		problems = append(problems, fmt.Sprintf("%s.%s: %s changed since %s but its name %q did not; %s", section, c.Key, c.File, baseVersion, c.Name, fix))
	}
	return problems
}

// lintKeyVariables reports labels written in map form with a variable in the key: compose
// interpolates values, never keys, so Swarm would get the literal ${STACK_NAME} and the
// version would be invisible to abra and to this controller.
func lintKeyVariables(st *swarm.Stack) []string {
	var problems []string
	for _, k := range st.KeyVariables {
		problems = append(problems, k+" has a variable, but compose interpolates values, never keys: Swarm gets it literally; write the label in list form, e.g. - \"coop-cloud.${STACK_NAME}.version=1.0.0\"")
	}
	return problems
}

// lintSecretVersions reports external secrets whose versioned name uses a variable that nothing
// sets, typically a SECRET_<NAME>_VERSION line of an overlay left commented out in
// .env.sample: the name would end in "_" and Swarm would refuse it at deploy.
func lintSecretVersions(st *swarm.Stack) []string {
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(st.Config.Secrets)) {
		sec := st.Config.Secrets[key]
		tmpl := st.NameTemplate("secret", key)
		if !sec.External.External || tmpl == "" {
			continue
		}
		for _, m := range composeVar.FindAllStringSubmatch(tmpl, -1) {
			v := m[1] + m[2]
			if st.Env[v] != "" || strings.Contains(m[0], ":-") || strings.Contains(m[0], "-}") {
				continue
			}
			problems = append(problems, fmt.Sprintf("secrets.%s: name %q uses %s, which neither .env.sample nor spec.env sets (is its line commented out?): set %s, e.g. %s: v1 in spec.env", key, tmpl, v, v, v))
		}
	}
	return problems
}

// lintMarker reports a spec.marker whose service the recipe does not have.
func lintMarker(m *v1.Marker, services []service) []string {
	if m == nil || slices.ContainsFunc(services, func(s service) bool { return s.Name == m.Service }) {
		return nil
	}
	var names []string
	for _, s := range services {
		names = append(names, s.Name)
	}
	return []string{fmt.Sprintf("spec.marker.service %q is not a service of the recipe (valid: %s)", m.Service, strings.Join(names, ", "))}
}

// lintEmptyVariables warns of variables that interpolate to empty with no default.
func lintEmptyVariables(st *swarm.Stack) []string {
	var warnings []string
	for _, v := range st.EmptyVariables {
		warnings = append(warnings, v+" interpolates to empty: it has no default and neither .env.sample nor spec.env sets it")
	}
	return warnings
}

// Swarm's limits on object names: services are DNS labels, secrets and configs at most 64.
const (
	maxServiceName = 63
	maxObjectName  = 64
)

// lintNameLengths warns of generated Swarm names over Swarm's limits: <stack>_<service> of the
// test stack (whose name is bounded by StackName), and secret and config names.
func lintNameLengths(st *swarm.Stack) []string {
	var warnings []string
	for _, s := range st.Config.Services {
		if n := st.Name + "_" + s.Name; len(n) > maxServiceName {
			warnings = append(warnings, fmt.Sprintf("service name %s is %d characters, over Swarm's %d: shorten service %s", n, len(n), maxServiceName, s.Name))
		}
	}
	for key, sec := range st.Config.Secrets {
		if len(sec.Name) > maxObjectName {
			warnings = append(warnings, fmt.Sprintf("secrets.%s: name %s is %d characters, over Swarm's %d", key, sec.Name, len(sec.Name), maxObjectName))
		}
	}
	for key, cfg := range st.Config.Configs {
		if len(cfg.Name) > maxObjectName {
			warnings = append(warnings, fmt.Sprintf("configs.%s: name %s is %d characters, over Swarm's %d", key, cfg.Name, len(cfg.Name), maxObjectName))
		}
	}
	slices.Sort(warnings)
	return warnings
}
