package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
)

// Files of a recipe tree that ReadContents reads.
const (
	// EnvSampleFile is the recipe's sample env file.
	EnvSampleFile = ".env.sample"
	// AbraShFile is the recipe's shell helper; only its top-level "export X=Y" lines are read.
	AbraShFile = "abra.sh"
	// DefaultComposeFile is used when neither the caller nor COMPOSE_FILE names compose files.
	DefaultComposeFile = "compose.yml"
	// ReleaseDir holds release notes named after version tags.
	ReleaseDir = "release"
)

// Contents is what a recipe tree at one version declares.
type Contents struct {
	// Dir is the recipe tree the contents were read from.
	Dir string
	// ComposeFiles are the compose files to deploy, relative to the tree, in order.
	ComposeFiles []string
	// HasEnvSample is true when the tree has .env.sample at its root.
	HasEnvSample bool
	// Env is .env.sample overlaid with the simple exports of abra.sh.
	Env map[string]string
	// Secrets are the secrets declared by SECRET_<KEY>_VERSION lines, keyed by compose
	// secret key (db_password).
	Secrets map[string]SecretSpec
	// ReleaseNote is the text of release/<version>; empty when there is none.
	ReleaseNote string
	// ManualMigration is true when the release note asks for a manual migration or announces
	// a breaking change.
	ManualMigration bool
}

// ReadContents reads the recipe tree dir at version (a tag, or "" for a commit that is not a
// release: then no release note is read). composeFiles, when not empty, overrides the compose
// file list (a RecipeTest's spec.composeFiles); otherwise COMPOSE_FILE of .env.sample
// (colon-separated) is used, else compose.yml. Every listed compose file must exist; loading
// them is internal/swarm's, which names the file at fault.
func ReadContents(dir string, composeFiles []string, version string) (*Contents, error) {
	env, err := readEnvSample(dir)
	if err != nil {
		return nil, err
	}
	c := &Contents{Dir: dir, Env: env.Env, HasEnvSample: fileExists(dir, EnvSampleFile)}
	if c.Secrets, err = env.Secrets(EnvSampleFile); err != nil {
		return nil, err
	}
	exports, err := readAbraShExports(dir)
	if err != nil {
		return nil, err
	}
	for k, v := range exports {
		c.Env[k] = v
	}
	if c.ComposeFiles, err = composeFileList(dir, composeFiles, env.Env); err != nil {
		return nil, err
	}
	if version != "" {
		if c.ReleaseNote, err = readReleaseNote(dir, version); err != nil {
			return nil, err
		}
		c.ManualMigration = mentionsManualMigration(c.ReleaseNote)
	}
	return c, nil
}

func readEnvSample(dir string) (*EnvFile, error) {
	data, err := ReadTreeFile(dir, EnvSampleFile)
	if errors.Is(err, fs.ErrNotExist) {
		// A recipe without .env.sample is unusual but valid: it needs no configuration.
		return &EnvFile{Env: map[string]string{}, Modifiers: map[string]map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", EnvSampleFile, err)
	}
	return ParseEnvFile(EnvSampleFile, data)
}

// abraShExport matches a top-level "export NAME=VALUE" line. Indented exports live inside
// shell functions, which only take effect when abra runs them, so they are not read.
var abraShExport = regexp.MustCompile(`^export[ \t]+([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// readAbraShExports returns the simple exports of abra.sh: literal values, quoted or not.
// Values computed by the shell (command substitution) are skipped; the file is never run.
func readAbraShExports(dir string) (map[string]string, error) {
	data, err := ReadTreeFile(dir, AbraShFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", AbraShFile, err)
	}
	exports := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		m := abraShExport.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil || strings.Contains(m[2], "$(") || strings.Contains(m[2], "`") {
			continue
		}
		one, err := ParseEnvFile(AbraShFile, []byte(m[1]+"="+m[2]))
		if err != nil {
			continue // not a simple assignment; abra.sh is shell, not an env file
		}
		exports[m[1]] = one.Env[m[1]]
	}
	return exports, nil
}

func composeFileList(dir string, given []string, env map[string]string) ([]string, error) {
	files, from := given, "the given compose files"
	if len(files) == 0 {
		if v := env["COMPOSE_FILE"]; strings.TrimSpace(v) != "" {
			from = "COMPOSE_FILE of " + EnvSampleFile
			for _, f := range strings.Split(v, ":") {
				if f = strings.TrimSpace(f); f != "" {
					files = append(files, f)
				}
			}
		}
	}
	if len(files) == 0 {
		files, from = []string{DefaultComposeFile}, "the default"
	}
	for _, f := range files {
		if filepath.IsAbs(f) || !filepath.IsLocal(f) {
			return nil, fmt.Errorf("compose file %q from %s: must be a relative path inside the recipe", f, from)
		}
		if _, err := StatTreeFile(dir, f); err != nil {
			return nil, fmt.Errorf("compose file %q from %s: %w", f, from, err)
		}
	}
	return files, nil
}

func readReleaseNote(dir, version string) (string, error) {
	if !filepath.IsLocal(version) {
		return "", fmt.Errorf("release note of %q: not a valid file name", version)
	}
	data, err := ReadTreeFile(dir, ReleaseDir+"/"+version)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read release note: %w", err)
	}
	return string(data), nil
}

// manualMigration matches the phrases recipe maintainers use in release notes to warn that an
// upgrade needs hands-on work.
var manualMigration = regexp.MustCompile(`(?i)\bmanual(ly)?[ \t\n-]+(migration|migrate|intervention|steps?|upgrade)|\bmigrat\w*[ \t\n]+manually\b|\bbreaking\b`)

// mentionsManualMigration reports whether a release note asks for a manual migration.
func mentionsManualMigration(note string) bool { return manualMigration.MatchString(note) }

func fileExists(dir, name string) bool {
	_, err := StatTreeFile(dir, name)
	return err == nil
}
