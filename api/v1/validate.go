package v1

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Patterns of names and versions, shared by validation and the JSON Schema.
const (
	// NamePattern is a DNS-1123 label; names are also at most 63 characters.
	NamePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// VersionTagPattern is the syntax of a Co-op Cloud recipe tag: semver of the recipe, '+',
	// the upstream version (free-form but without spaces), e.g. 1.0.0+v1.6.870-0.
	VersionTagPattern = `^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\+[0-9A-Za-z][0-9A-Za-z._-]*$`
	// StackPattern is a Swarm stack name as this controller accepts it.
	StackPattern = `^[a-zA-Z0-9][a-zA-Z0-9_-]*$`
	// EnvNamePattern is an environment variable name.
	EnvNamePattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// DurationPattern is a Go duration string such as 90s, 10m or 1h30m.
	DurationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
)

var (
	dns1123Label = regexp.MustCompile(NamePattern)
	versionTag   = regexp.MustCompile(VersionTagPattern)
	stackName    = regexp.MustCompile(StackPattern)
	envName      = regexp.MustCompile(EnvNamePattern)
)

const (
	// MaxNameLength bounds object names, as DNS-1123 labels.
	MaxNameLength = 63
	// MaxStackLength leaves room for "_<service>" within Swarm's 63-character service names.
	MaxStackLength = 40

	validName    = "valid: a DNS-1123 label of at most 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. gitea"
	validVersion = "valid: latest or a recipe tag MAJOR.MINOR.PATCH+UPSTREAM, e.g. 3.5.3+1.24.2"
	validTag     = "valid: a recipe tag MAJOR.MINOR.PATCH+UPSTREAM, e.g. 3.5.3+1.24.2"
)

// IsVersionTag reports whether s has the syntax of a Co-op Cloud recipe tag,
// MAJOR.MINOR.PATCH+UPSTREAM. Whether the tag exists is for the recipe source to say.
func IsVersionTag(s string) bool { return versionTag.MatchString(s) }

// IsDNS1123Label reports whether s is a valid object name.
func IsDNS1123Label(s string) bool { return len(s) <= MaxNameLength && dns1123Label.MatchString(s) }

// Validate returns every problem of r with its field path; see Object.
func (r *RecipeTest) Validate() FieldErrors {
	var errs FieldErrors
	validateMeta(&errs, r.TypeMeta, KindRecipeTest, r.Metadata)
	s := r.Spec
	// A value derived from metadata.name by Default is not reported twice.
	if s.Recipe != "" && s.Recipe != r.Metadata.Name && !IsDNS1123Label(s.Recipe) {
		errs.add("spec.recipe", "%q is not a recipe name (%s)", s.Recipe, validName)
	}
	if strings.TrimSpace(s.Source.Git) == "" {
		errs.add("spec.source.git", "missing (valid: the URL or local path of the recipe's git repository)")
	}
	if b := s.Source.Branch; b != "" && !validBranch(b) {
		errs.add("spec.source.branch", "%q is not a branch name (valid: e.g. main)", b)
	}
	for i, f := range s.ComposeFiles {
		if !validRelativeFile(f) {
			errs.add(fmt.Sprintf("spec.composeFiles[%d]", i), "%q is not a compose file in the recipe (valid: a relative path ending in .yml or .yaml, e.g. compose.yml)", f)
		}
	}
	validateEnv(&errs, "spec.env", s.Env)
	validateTiers(&errs, s.Tiers)
	validateRequires(&errs, s.Requires)
	seen := map[TierName]bool{}
	for i, n := range s.ExpectedNA {
		p := fmt.Sprintf("spec.expectedNA[%d]", i)
		switch {
		case !slices.Contains(TierNames, n):
			errs.add(p, "%q is not a tier (valid: %s)", n, tierList())
		case seen[n]:
			errs.add(p, "%q is listed twice (valid: each tier at most once)", n)
		}
		seen[n] = true
	}
	if s.Trust != "" && !slices.Contains(Trusts, s.Trust) {
		errs.add("spec.trust", "%q is not a trust level (valid: trusted or untrusted; unset: by ref)", s.Trust)
	}
	validatePositive(&errs, "spec.timeout", s.Timeout)
	validateMarker(&errs, s.Marker)
	validatePlacement(&errs, s.Placement)
	validateSecrets(&errs, s.Secrets)
	return errs
}

// ageArmorHeader starts an ASCII-armored age file.
const ageArmorHeader = "-----BEGIN AGE ENCRYPTED FILE-----"

func validateSecrets(errs *FieldErrors, secrets map[string]SecretValue) {
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		v, p := secrets[k], "spec.secrets."+k
		if !composeServiceName.MatchString(k) {
			errs.add(p, "%q is not a compose secret name (valid: the name under the recipe's secrets:, e.g. smtp_password)", k)
		}
		switch {
		case v.File != "" && v.Age != "":
			errs.add(p, "both file and age are set (valid: exactly one)")
		case v.File == "" && v.Age == "":
			errs.add(p, "neither file nor age is set (valid: {file: /run/keys/NAME} or {age: <age -a output>})")
		case v.File != "" && !filepath.IsAbs(v.File):
			errs.add(p+".file", "%q is not an absolute path (valid: e.g. /run/keys/smtp)", v.File)
		case v.Age != "" && !strings.HasPrefix(strings.TrimSpace(v.Age), ageArmorHeader):
			// Never quote the value: it is ciphertext, but it may be a pasted plaintext.
			errs.add(p+".age", "is not ASCII-armored age ciphertext (valid: the output of age -a, starting %s)", ageArmorHeader)
		}
	}
}

// placementConstraint is Swarm's constraint syntax: a node attribute, == or !=, a value.
var placementConstraint = regexp.MustCompile(`^\s*(node|engine)\.[A-Za-z0-9_.-]+\s*(==|!=)\s*\S+\s*$`)

func validatePlacement(errs *FieldErrors, p *Placement) {
	if p == nil {
		return
	}
	for i, c := range p.Constraints {
		if !placementConstraint.MatchString(c) {
			errs.add(fmt.Sprintf("spec.placement.constraints[%d]", i), "%q is not a Swarm placement constraint (valid: e.g. node.hostname==mn3 or node.labels.ccci.test==true)", c)
		}
	}
	for i, pr := range p.Preferences {
		if !strings.HasPrefix(pr.Spread, "node.") && !strings.HasPrefix(pr.Spread, "engine.") {
			errs.add(fmt.Sprintf("spec.placement.preferences[%d].spread", i), "%q is not a node descriptor (valid: e.g. node.labels.zone)", pr.Spread)
		}
	}
}

// composeServiceName matches a compose service key as the compose schema allows it.
var composeServiceName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func validateMarker(errs *FieldErrors, m *Marker) {
	if m == nil {
		return
	}
	if !composeServiceName.MatchString(m.Service) {
		errs.add("spec.marker.service", "%q is not a compose service name (valid: the name of a service of the recipe, e.g. db)", m.Service)
	}
	for _, c := range []struct {
		field string
		argv  []string
	}{{"spec.marker.write", m.Write}, {"spec.marker.read", m.Read}} {
		field, argv := c.field, c.argv
		if len(argv) == 0 || strings.TrimSpace(argv[0]) == "" {
			errs.add(field, "missing (valid: a command as a list of words, e.g. [\"sh\", \"-c\", \"...$%s...\"])", MarkerEnv)
		}
	}
}

// Validate returns every problem of w with its field path; see Object.
func (w *WarmCanonical) Validate() FieldErrors {
	var errs FieldErrors
	validateMeta(&errs, w.TypeMeta, KindWarmCanonical, w.Metadata)
	s := w.Spec
	// A value derived from metadata.name by Default is not reported twice.
	if s.RecipeTest != "" && s.RecipeTest != w.Metadata.Name && !IsDNS1123Label(s.RecipeTest) {
		errs.add("spec.recipeTest", "%q is not a RecipeTest name (%s)", s.RecipeTest, validName)
	}
	if s.Version != "" && s.Version != VersionLatest && !IsVersionTag(s.Version) {
		errs.add("spec.version", "%q is not a version (%s)", s.Version, validVersion)
	}
	if s.Stack != "" && s.Stack != DefaultStack(w.Metadata.Name) && (len(s.Stack) > MaxStackLength || !stackName.MatchString(s.Stack)) {
		errs.add("spec.stack", "%q is not a stack name (valid: at most %d letters, digits, '_' and '-', starting with a letter or digit, e.g. warm_gitea)", s.Stack, MaxStackLength)
	}
	validateEnv(&errs, "spec.env", s.Env)
	if s.Mode != "" && s.Mode != ModeLive && s.Mode != ModeData {
		errs.add("spec.mode", "%q is not a mode (valid: live, data)", s.Mode)
	}
	validatePositive(&errs, "spec.interval", s.Interval)
	validatePositive(&errs, "spec.timeout", s.Timeout)
	if s.Drift != "" && s.Drift != DriftReport && s.Drift != DriftCorrect {
		errs.add("spec.drift", "%q is not a drift policy (valid: report, correct)", s.Drift)
	}
	if s.Images != "" && s.Images != ImagesFollow && s.Images != ImagesPinned {
		errs.add("spec.images", "%q is not an image policy (valid: follow, pinned)", s.Images)
	}
	if s.Soak.Duration < 0 {
		errs.add("spec.soak", "%s is negative (valid: a duration such as 5m, or 0s for none)", s.Soak.Duration)
	}
	seen := map[string]bool{}
	for i, d := range s.DependsOn {
		p := fmt.Sprintf("spec.dependsOn[%d]", i)
		switch {
		case !IsDNS1123Label(d):
			errs.add(p, "%q is not a WarmCanonical name (%s)", d, validName)
		case d == w.Metadata.Name:
			errs.add(p, "%q is the object itself (valid: the name of another WarmCanonical)", d)
		case seen[d]:
			errs.add(p, "%q is listed twice (valid: each dependency once)", d)
		}
		seen[d] = true
	}
	validateSecrets(&errs, s.Secrets)
	return errs
}

func validateMeta(errs *FieldErrors, t TypeMeta, kind string, m ObjectMeta) {
	// An object built in Go may leave TypeMeta empty; Parse has checked it for files.
	if t.APIVersion != "" && t.APIVersion != APIVersion {
		errs.add("apiVersion", "%q is not supported (valid: %s)", t.APIVersion, APIVersion)
	}
	if t.Kind != "" && t.Kind != kind {
		errs.add("kind", "%q does not match the object (valid: %s)", t.Kind, kind)
	}
	switch {
	case m.Name == "":
		errs.add("metadata.name", "missing (%s)", validName)
	case !IsDNS1123Label(m.Name):
		errs.add("metadata.name", "%q is not a valid name (%s)", m.Name, validName)
	}
}

func validateEnv(errs *FieldErrors, field string, env Env) {
	for _, k := range sortedKeys(env) {
		if !envName.MatchString(k) {
			errs.add(field+"."+k, "%q is not an environment variable name (valid: letters, digits and '_', not starting with a digit)", k)
		}
		ct, encrypted := Ciphertext(env[k])
		switch {
		case encrypted && !strings.HasPrefix(strings.TrimSpace(ct), ageArmorHeader):
			// Never quote the value: it may be a pasted plaintext.
			errs.add(field+"."+k+".age", "is not ASCII-armored age ciphertext (valid: the output of age -a, starting %s)", ageArmorHeader)
		case !encrypted && strings.ContainsRune(env[k], 0):
			errs.add(field+"."+k, "contains a NUL character, which no environment variable can hold")
		}
	}
}

// requirementName is a name the test env templates can use: {{ .Requires.keycloak.Stack }}.
var requirementName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func validateRequires(errs *FieldErrors, reqs []Requirement) {
	seen := map[string]int{}
	for i, q := range reqs {
		p := fmt.Sprintf("spec.requires[%d]", i)
		switch {
		case q.Name == "":
			errs.add(p+".name", "missing (valid: a name for the templates, e.g. keycloak)")
		case !requirementName.MatchString(q.Name):
			errs.add(p+".name", "%q is not usable in templates (valid: lowercase letters, digits and '_', starting with a letter, e.g. keycloak)", q.Name)
		default:
			if j, dup := seen[q.Name]; dup {
				errs.add(p+".name", "%q is also spec.requires[%d].name (valid: each name once)", q.Name, j)
			}
			seen[q.Name] = i
		}
		byRecipe := q.Recipe != "" || q.Source != nil || q.Version != "" || len(q.Env) > 0
		switch {
		case q.WarmCanonical != "" && byRecipe:
			errs.add(p, "both warmCanonical and recipe are set (valid: an existing warm app, or a recipe with source and version)")
		case q.WarmCanonical != "":
			if !IsDNS1123Label(q.WarmCanonical) {
				errs.add(p+".warmCanonical", "%q is not a WarmCanonical name (%s)", q.WarmCanonical, validName)
			}
		case !byRecipe:
			errs.add(p, "neither warmCanonical nor recipe is set (valid: {name: x, warmCanonical: NAME} or {name: x, recipe: R, source: {git: URL}, version: TAG})")
		default:
			if !IsDNS1123Label(q.Recipe) {
				errs.add(p+".recipe", "%q is not a recipe name (%s)", q.Recipe, validName)
			}
			if q.Source == nil || strings.TrimSpace(q.Source.Git) == "" {
				errs.add(p+".source.git", "missing (valid: the URL or local path of the required recipe's git repository)")
			}
			if q.Version == "" {
				errs.add(p+".version", "missing (valid: a version tag of %s, e.g. 1.2.0+1.2)", orRecipe(q.Recipe))
			}
			validateEnv(errs, p+".env", q.Env)
		}
	}
}

func orRecipe(r string) string {
	if r == "" {
		return "the recipe"
	}
	return r
}

func validateTiers(errs *FieldErrors, tiers []Tier) {
	seen := map[TierName]int{}
	for i, t := range tiers {
		p := fmt.Sprintf("spec.tiers[%d]", i)
		if t.Name == "" {
			errs.add(p+".name", "missing (valid: %s)", tierList())
			continue
		}
		if !slices.Contains(TierNames, t.Name) {
			errs.add(p+".name", "%q is not a tier (valid: %s)", t.Name, tierList())
			continue
		}
		if j, dup := seen[t.Name]; dup {
			errs.add(p+".name", "%q is already spec.tiers[%d] (valid: each tier at most once)", t.Name, j)
		}
		seen[t.Name] = i
		switch {
		case t.From != "" && t.Name != TierUpgrade:
			errs.add(p+".from", "only the upgrade tier has a base version (valid: remove from, or use it on the upgrade tier)")
		case t.From != "" && t.From != FromKnownGood && t.From != FromPrevious && !IsVersionTag(t.From):
			errs.add(p+".from", "%q is not a base version (valid: knownGood, previous or a recipe tag MAJOR.MINOR.PATCH+UPSTREAM)", t.From)
		}
		switch {
		case t.Name == TierCustom && len(t.Command) == 0:
			errs.add(p+".command", "missing (valid: the command of the custom tier, e.g. [pytest, -q, tests])")
		case t.Name != TierCustom && len(t.Command) > 0:
			errs.add(p+".command", "only the custom tier runs a command (valid: remove command, or use name: custom)")
		}
		if t.Image != "" && t.Name != TierCustom {
			errs.add(p+".image", "only the custom tier runs in an image (valid: remove image, or use name: custom)")
		}
		for j, arg := range t.Command {
			if j == 0 && strings.TrimSpace(arg) == "" {
				errs.add(fmt.Sprintf("%s.command[%d]", p, j), "empty program (valid: a program name such as pytest)")
			}
		}
		if t.When != nil && !validRelativePath(t.When.FileExists) {
			errs.add(p+".when.fileExists", "%q is not a path in the recipe (valid: a relative path without '..', e.g. compose.lfs.yml)", t.When.FileExists)
		}
		validatePositive(errs, p+".timeout", t.Timeout)
	}
}

// validatePositive rejects negative durations; zero means unset and takes the default.
func validatePositive(errs *FieldErrors, field string, d Duration) {
	if d.Duration < 0 {
		errs.add(field, "%s is negative (valid: a positive duration such as 10m)", d)
	}
}

func validBranch(b string) bool {
	return !strings.ContainsAny(b, " \t\n~^:?*[\\") && !strings.Contains(b, "..") &&
		!strings.HasPrefix(b, "-") && !strings.HasPrefix(b, "/") && !strings.HasSuffix(b, "/")
}

func validRelativePath(p string) bool {
	if p == "" || path.IsAbs(p) || strings.ContainsAny(p, "\x00\n") {
		return false
	}
	c := path.Clean(p)
	return c != ".." && !strings.HasPrefix(c, "../")
}

func validRelativeFile(p string) bool {
	return validRelativePath(p) && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"))
}

func tierList() string {
	s := make([]string, len(TierNames))
	for i, n := range TierNames {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
