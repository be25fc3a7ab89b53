package secrets

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// minRedacted is the shortest value Remember keeps: replacing every "1" or "on" in every message
// would make them unreadable, and a value that short is no secret anyway.
const minRedacted = 4

// known holds the secret values this process has handled, by value, and the replacer built
// from them. Values are never written anywhere; the map lives as long as the process.
var known struct {
	sync.RWMutex
	names    map[string]string // value (in every spelling, see spellings) -> name
	replacer *strings.Replacer
}

// Remember records value as the secret name (an env variable such as SMTP_PASSWORD, or a
// compose secret key) so that Redact hides it from then on. Everything that reveals a secret
// (an {age} value, a spec.secrets value, a generated secret) calls it before the value can
// reach a message. name is the last element of a dotted field (`RecipeTest "x"
// spec.env.TOKEN.age` gives TOKEN).
func Remember(name, value string) {
	if len(value) < minRedacted {
		return
	}
	name = nameOf(name)
	known.Lock()
	defer known.Unlock()
	if known.names == nil {
		known.names = map[string]string{}
	}
	changed := false
	for _, s := range spellings(value) {
		if known.names[s] != name {
			known.names[s], changed = name, true
		}
	}
	if changed {
		known.replacer = nil
	}
}

// Redact returns s with every value given to Remember replaced by <redacted:NAME>. It is the one
// redaction of the product, applied where text leaves it: the status and run records the store
// writes, run and daemon logs, the API and the dashboard.
func Redact(s string) string {
	known.RLock()
	r := known.replacer
	empty := len(known.names) == 0
	known.RUnlock()
	if empty {
		return s
	}
	if r == nil {
		r = buildReplacer()
	}
	return r.Replace(s)
}

// RedactBytes is Redact of bytes.
func RedactBytes(b []byte) []byte {
	known.RLock()
	empty := len(known.names) == 0
	known.RUnlock()
	if empty {
		return b
	}
	return []byte(Redact(string(b)))
}

// buildReplacer makes the replacer of the known values, longest first, so that a value holding
// another is replaced whole.
func buildReplacer() *strings.Replacer {
	known.Lock()
	defer known.Unlock()
	if known.replacer != nil {
		return known.replacer
	}
	values := make([]string, 0, len(known.names))
	for v := range known.names {
		values = append(values, v)
	}
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, v := range values {
		pairs = append(pairs, v, "<redacted:"+known.names[v]+">")
	}
	known.replacer = strings.NewReplacer(pairs...)
	return known.replacer
}

// spellings are the forms a value takes in our outputs: as it is, quoted by %q, and in JSON.
func spellings(value string) []string {
	out := []string{value}
	q := strconv.Quote(value)
	out = append(out, q[1:len(q)-1])
	if j, err := json.Marshal(value); err == nil {
		out = append(out, string(j[1:len(j)-1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func nameOf(field string) string {
	field = strings.TrimSuffix(field, ".age")
	field = strings.TrimSuffix(field, ".file")
	if i := strings.LastIndexAny(field, ". "); i >= 0 {
		field = field[i+1:]
	}
	return strings.Trim(field, `"`)
}

// Writer returns a writer that redacts what it passes on to w. Each Write is redacted alone:
// a value split over two writes passes, so give it whole lines (the logs write a line at a time).
func Writer(w io.Writer) io.Writer { return &redactingWriter{w: w} }

type redactingWriter struct{ w io.Writer }

func (r *redactingWriter) Write(p []byte) (int, error) {
	if _, err := r.w.Write(RedactBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
