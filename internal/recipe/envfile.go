package recipe

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// EnvFile is a parsed env file such as a recipe's .env.sample, read the way abra reads it:
// blank lines and "#" comments are skipped, an "export " prefix is dropped, values may be bare,
// 'single-quoted' (literal) or "double-quoted" (escapes \n \t \" \\ \$, may span lines), a bare
// value ends at " #", and the comment after a value carries modifiers such as "length=24" or
// "generate=false". $VAR and ${VAR} in bare and double-quoted values expand to variables
// defined earlier in the same file; a reference to anything else is kept verbatim so that the
// compose loader can interpolate it later (abra would expand it to "" here, which would lose
// STACK_NAME-style references).
type EnvFile struct {
	// Env maps each variable to its value; a later definition wins.
	Env map[string]string
	// Modifiers maps a variable to the key=value modifiers of its inline comment; variables
	// without modifiers are absent.
	Modifiers map[string]map[string]string
	// Keys lists variables in the order of their first definition.
	Keys []string
}

// ParseEnvFile parses data, the contents of the env file name (used in errors only).
func ParseEnvFile(name string, data []byte) (*EnvFile, error) {
	f := &EnvFile{Env: map[string]string{}, Modifiers: map[string]map[string]string{}}
	p := envParser{src: strings.ReplaceAll(string(data), "\r\n", "\n"), line: 1}
	for {
		key, value, comment, line, err := p.next(f.Env)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if key == "" {
			return f, nil
		}
		if _, seen := f.Env[key]; !seen {
			f.Keys = append(f.Keys, key)
		}
		f.Env[key] = value
		delete(f.Modifiers, key)
		if mods := parseModifiers(comment); len(mods) > 0 {
			f.Modifiers[key] = mods
		}
	}
}

// parseModifiers reads "key=value" words of an inline comment; other words are prose.
func parseModifiers(comment string) map[string]string {
	var mods map[string]string
	for _, word := range strings.Fields(comment) {
		k, v, ok := strings.Cut(word, "=")
		if !ok || k == "" {
			continue
		}
		if mods == nil {
			mods = map[string]string{}
		}
		mods[k] = v
	}
	return mods
}

// SecretSpec describes a secret a recipe expects, declared in .env.sample by a line like
// SECRET_DB_PASSWORD_VERSION=v1 # length=24.
type SecretSpec struct {
	// EnvVar is the variable holding the secret's version, e.g. SECRET_DB_PASSWORD_VERSION.
	EnvVar string
	// Length is the length of a generated value from the "length=N" modifier; 0 means the
	// generator's default (abra then generates a passphrase).
	Length int
	// Generate is false when the line carries "generate=false": the operator must insert the
	// value. Defaults to true.
	Generate bool
	// Charset is the "charset=" modifier: alnum (the default) or hex.
	Charset string
}

// secretCharsets are the charset= values a generated secret honours.
var secretCharsets = []string{"alnum", "hex"}

// Secrets returns the secrets declared by SECRET_<KEY>_VERSION variables, keyed by the compose
// secret key: lower-case <KEY>, so SECRET_DB_PASSWORD_VERSION declares db_password. name is the
// file name used in errors.
func (f *EnvFile) Secrets(name string) (map[string]SecretSpec, error) {
	secrets := map[string]SecretSpec{}
	for _, envVar := range f.Keys {
		key, ok := SecretKey(envVar)
		if !ok {
			continue
		}
		spec := SecretSpec{EnvVar: envVar, Generate: true}
		mods := f.Modifiers[envVar]
		if s, ok := mods["length"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s: %s: modifier length=%q is not a positive number", name, envVar, s)
			}
			spec.Length = n
		}
		if s, ok := mods["charset"]; ok {
			if !slices.Contains(secretCharsets, s) {
				return nil, fmt.Errorf("%s: %s: modifier charset=%q is not supported (valid: %s)", name, envVar, s, strings.Join(secretCharsets, ", "))
			}
			spec.Charset = s
		}
		if s, ok := mods["generate"]; ok {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: modifier generate=%q is not true or false", name, envVar, s)
			}
			spec.Generate = b
		}
		secrets[key] = spec
	}
	return secrets, nil
}

// SecretKey returns the compose secret key of a SECRET_<KEY>_VERSION variable name
// (SECRET_DB_PASSWORD_VERSION -> db_password); false for other names.
func SecretKey(envVar string) (string, bool) {
	const prefix, suffix = "SECRET_", "_VERSION"
	if len(envVar) <= len(prefix)+len(suffix) || !strings.HasPrefix(envVar, prefix) || !strings.HasSuffix(envVar, suffix) {
		return "", false
	}
	return strings.ToLower(envVar[len(prefix) : len(envVar)-len(suffix)]), true
}

// envParser scans env-file syntax one assignment at a time.
type envParser struct {
	src  string
	pos  int
	line int
}

// next returns the next assignment; key is "" at the end of input. line is where the
// assignment (or the error) is.
func (p *envParser) next(defined map[string]string) (key, value, comment string, line int, err error) {
	for p.pos < len(p.src) {
		raw := p.restOfLine()
		line = p.line
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' {
			p.advanceLine()
			continue
		}
		trimmed = strings.TrimPrefix(trimmed, "export ")
		trimmed = strings.TrimLeft(trimmed, " \t")
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			// The line is not quoted: it may be anything, a key file's content included.
			return "", "", "", line, errors.New("not a KEY=VALUE line")
		}
		key = strings.TrimSpace(trimmed[:i])
		if !validEnvName(key) {
			return "", "", "", line, errors.New("the key is not a valid variable name (valid: letters, digits and _, not starting with a digit)")
		}
		// Move pos to the start of the value inside the source, which may span lines.
		start := p.pos + strings.Index(raw, trimmed[i:]) + 1
		p.pos = start
		value, comment, err = p.value(defined)
		if err != nil {
			return "", "", "", line, fmt.Errorf("%s: %w", key, err)
		}
		return key, value, comment, line, nil
	}
	return "", "", "", p.line, nil
}

func (p *envParser) restOfLine() string {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		return p.src[p.pos : p.pos+i]
	}
	return p.src[p.pos:]
}

func (p *envParser) advanceLine() {
	if i := strings.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		p.pos += i + 1
		p.line++
		return
	}
	p.pos = len(p.src)
}

// value reads the value starting at p.pos and leaves p.pos at the start of the next line.
func (p *envParser) value(defined map[string]string) (value, comment string, err error) {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	rest := p.restOfLine()
	switch {
	case strings.HasPrefix(rest, "'"):
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated single quote")
		}
		value, comment = rest[1:1+end], trailingComment(rest[2+end:])
		p.advanceLine()
		return value, comment, nil
	case strings.HasPrefix(rest, `"`):
		return p.doubleQuoted(defined)
	default:
		value = rest
		if i := strings.Index(value, " #"); i >= 0 {
			value, comment = value[:i], value[i+2:]
		} else if i := strings.Index(value, "\t#"); i >= 0 {
			value, comment = value[:i], value[i+2:]
		}
		p.advanceLine()
		return expand(strings.TrimSpace(value), defined), comment, nil
	}
}

func (p *envParser) doubleQuoted(defined map[string]string) (value, comment string, err error) {
	var b strings.Builder
	i := p.pos + 1
	for ; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == '\\' && i+1 < len(p.src):
			i++
			switch n := p.src[i]; n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '$':
				// Kept escaped so expand leaves it alone; unescaped below.
				b.WriteString(`\$`)
			default:
				b.WriteByte(n)
			}
			continue
		case c == '"':
			p.pos = i + 1
			rest := p.restOfLine()
			p.advanceLine()
			v := strings.ReplaceAll(expand(b.String(), defined), `\$`, "$")
			return v, trailingComment(rest), nil
		case c == '\n':
			p.line++
		}
		b.WriteByte(c)
	}
	return "", "", fmt.Errorf("unterminated double quote")
}

// trailingComment returns the text after "#" in what follows a quoted value.
func trailingComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// expand replaces $VAR and ${VAR} by earlier definitions; unknown references and \$ stay.
func expand(s string, defined map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteString(`\$`)
			i++
			continue
		}
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		name, width := refAt(s[i+1:])
		if name == "" {
			b.WriteByte(s[i])
			continue
		}
		if v, ok := defined[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+1+width])
		}
		i += width
	}
	return b.String()
}

// refAt reads a variable reference after "$": NAME or {NAME}; width is the bytes consumed.
func refAt(s string) (name string, width int) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 || !validEnvName(s[1:end]) {
			return "", 0
		}
		return s[1:end], end + 1
	}
	n := 0
	for n < len(s) && (s[n] == '_' || isDigit(s[n]) && n > 0 || s[n]|0x20 >= 'a' && s[n]|0x20 <= 'z') {
		n++
	}
	return s[:n], n
}

func validEnvName(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && !isDigit(c) && (c|0x20 < 'a' || c|0x20 > 'z') {
			return false
		}
	}
	return true
}
