package v1

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Bounds of a resource file. Real files are a few KiB with a few documents; the bounds keep a
// stray or hostile file from costing much memory and time.
const (
	// MaxFileSize is the largest resource file accepted, 1 MiB.
	MaxFileSize = 1 << 20
	// MaxDocuments is the most YAML documents one file may hold.
	MaxDocuments = 1000
	// maxErrorsPerDocument bounds the problems reported for one document; the rest are
	// counted in a last message.
	maxErrorsPerDocument = 50
)

// Document is one YAML document of a resource file as Parse saw it.
type Document struct {
	// Index is the 1-based position of the document among the non-empty documents of the file.
	Index int
	// Line is the line where the document starts.
	Line int
	// Key is the kind and name of the object, as far as they could be read; the name or both
	// are empty when the document does not say them.
	Key Key
	// Object is the parsed object as written (not defaulted), nil when Errors is not empty.
	Object Object
	// Errors are the problems of the document.
	Errors Errors
	// Digest is a hex sha256 of the document's content: of the object's canonical JSON when it
	// is valid (so comments and formatting do not count), else of the document's text.
	Digest string
}

// Parse strictly parses the YAML documents of one resource file. It returns the objects of the
// valid documents, as written (call Default before use), and, as Errors, every problem found.
// file is used only in messages. Parse does no I/O.
func Parse(file string, data []byte) ([]Object, error) {
	docs, fileErrs := ParseDocuments(file, data)
	var objs []Object
	var errs Errors
	for _, d := range docs {
		if d.Object != nil {
			objs = append(objs, d.Object)
		}
		errs = append(errs, d.Errors...)
	}
	return objs, append(errs, fileErrs...).Err()
}

// ParseDocuments is Parse with the detail of each document, for the directory watcher and the
// loader: even an invalid document yields its best-effort key, so that the object can be
// marked Stalled rather than silently dropped. The returned Errors concern the whole file
// (size, binary content, no document); problems of a document are in its Errors.
func ParseDocuments(file string, data []byte) ([]Document, Errors) {
	if err := checkFile(file, data); err != nil {
		return nil, Errors{err}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var docs []Document
	for _, c := range splitDocuments(data) {
		if blank(c.text) {
			continue
		}
		if len(docs) == MaxDocuments {
			return docs, Errors{{File: file, Line: c.line, Detail: fmt.Sprintf("more than %d documents in the file (valid: split it into several files)", MaxDocuments)}}
		}
		d := parseDocument(file, c, len(docs)+1)
		if d != nil {
			d.Errors = capErrors(d.Errors)
			docs = append(docs, *d)
		}
	}
	if len(docs) == 0 {
		return nil, Errors{{File: file, Detail: "no resources in the file (valid: YAML documents of kind " + strings.Join(Kinds, " or ") + ")"}}
	}
	markDuplicates(file, docs)
	return docs, nil
}

// TooLargeError is the error for a resource file of size bytes, over MaxFileSize. Parse returns
// it, and loaders that check the size before reading use it for the same message.
func TooLargeError(file string, size int64) *Error {
	return &Error{File: file, Detail: fmt.Sprintf("file is %d bytes, over the limit of %d bytes (1 MiB) (valid: split it into several files)", size, MaxFileSize)}
}

// blank reports a document of nothing but blank lines, comments and markers, without the cost
// of a YAML parser.
func blank(text []byte) bool {
	for _, l := range bytes.Split(text, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !isDocumentMarker(l) {
			return false
		}
		if isDocumentMarker(l) && len(bytes.TrimSpace(l[3:])) > 0 && bytes.TrimSpace(l[3:])[0] != '#' {
			return false
		}
	}
	return true
}

// capErrors keeps the first maxErrorsPerDocument problems and counts the others.
func capErrors(errs Errors) Errors {
	if len(errs) <= maxErrorsPerDocument {
		return errs
	}
	last := *errs[maxErrorsPerDocument-1]
	last.Line, last.Field = 0, ""
	last.Detail = fmt.Sprintf("%d more problems not shown (valid: fix the ones above first)", len(errs)-maxErrorsPerDocument+1)
	return append(errs[:maxErrorsPerDocument-1:maxErrorsPerDocument-1], &last)
}

func checkFile(file string, data []byte) *Error {
	if len(data) > MaxFileSize {
		return TooLargeError(file, int64(len(data)))
	}
	if i := bytes.IndexByte(data, 0); i >= 0 || !utf8.Valid(data) {
		if i < 0 {
			i = invalidUTF8At(data)
		}
		return &Error{File: file, Line: bytes.Count(data[:i], []byte("\n")) + 1, Detail: fmt.Sprintf("binary data at byte %d (valid: a UTF-8 YAML text file)", i)}
	}
	return nil
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// chunk is the text of one document and the line it starts on.
type chunk struct {
	text []byte
	line int
}

// splitDocuments cuts the file at document markers: "---" at the start of a line, alone or
// followed by a blank. YAML allows no other reading of such a line, even inside a block
// scalar, so cutting the text is safe; each document then parses on its own and a syntax
// error in one does not hide the others.
func splitDocuments(data []byte) []chunk {
	var chunks []chunk
	start, startLine, line := 0, 1, 1
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data) + 1
		if end >= 0 {
			next = i + end + 1
		}
		l := data[i:min(next, len(data))]
		if isDocumentMarker(l) && i > start {
			chunks = append(chunks, chunk{data[start:i], startLine})
			start, startLine = i, line
		}
		i = next
		line++
	}
	if start < len(data) {
		chunks = append(chunks, chunk{data[start:], startLine})
	}
	return chunks
}

func isDocumentMarker(l []byte) bool {
	l = bytes.TrimRight(l, "\r\n")
	return bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses one document; nil when it holds nothing but comments and markers.
func parseDocument(file string, c chunk, index int) *Document {
	d := &Document{Index: index, Line: c.line, Digest: digest(c.text)}
	fail := func(line int, field, format string, args ...any) *Document {
		d.Errors = append(d.Errors, &Error{File: file, Line: line, Document: index, Kind: d.Key.Kind, Name: d.Key.Name, Field: field, Detail: fmt.Sprintf(format, args...)})
		return d
	}
	var root yaml.Node
	if err := yaml.Unmarshal(c.text, &root); err != nil {
		d.Key = guessKey(c.text)
		if l, ok := tabIndented(c.text); ok {
			return fail(c.line+l-1, "", "line indented with a tab (valid: spaces; YAML does not allow tabs for indentation)")
		}
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line, msg = c.line+n-1, m[2]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return fail(line, "", "invalid YAML: %s (valid: YAML with consistent space indentation and quoted special characters)", msg)
	}
	if len(root.Content) == 0 || root.Content[0].ShortTag() == "!!null" {
		// Only comments, or an explicit "---" with nothing after it.
		return nil
	}
	n := root.Content[0]
	if n.Kind != yaml.MappingNode {
		return fail(n.Line+c.line-1, "", "got %s (valid: a map with the fields apiVersion, kind, metadata, spec)", describe(n))
	}
	d.Key = Key{Kind: scalarAt(n, "kind"), Name: scalarAt(mapAt(n, "metadata"), "name")}
	var obj Object
	switch d.Key.Kind {
	case KindRecipeTest:
		obj = &RecipeTest{}
	case KindWarmCanonical:
		obj = &WarmCanonical{}
	case "":
		d.Key.Name = ""
		return fail(c.line, "kind", "missing (valid: %s)", strings.Join(Kinds, ", "))
	default:
		k := d.Key.Kind
		d.Key = Key{}
		return fail(lineOfKey(n, "kind")+c.line-1, "kind", "%q is not a known kind (valid: %s)", k, strings.Join(Kinds, ", "))
	}
	dec := newDecoder(c.line - 1)
	plain, _ := dec.value(n, reflect.TypeOf(obj).Elem(), "")
	if v := scalarAt(n, "apiVersion"); v == "" {
		fail(c.line, "apiVersion", "missing (valid: %s)", APIVersion)
	}
	for _, e := range dec.errs {
		fail(e.line, e.Field, "%s", e.Detail)
	}
	if v := scalarAt(n, "apiVersion"); v != "" && v != APIVersion {
		fail(lineOfKey(n, "apiVersion")+c.line-1, "apiVersion", "%q is not supported (valid: %s)", v, APIVersion)
	}
	if err := decodeJSON(plain, obj); err != nil {
		return fail(c.line, "", "%v", err)
	}
	// Validate what decoded, so that one file run shows every problem; a field the decoder
	// already rejected is left out of the plain value and must not be reported twice.
	check := obj.DeepCopyObject()
	check.Default()
	for _, e := range check.Validate() {
		if !dec.rejected(e.Field) && e.Field != "apiVersion" {
			line := dec.lineOf(e.Field)
			if line == 0 {
				line = c.line
			}
			fail(line, e.Field, "%s", e.Detail)
		}
	}
	if len(d.Errors) > 0 {
		slices.SortStableFunc(d.Errors, func(a, b *Error) int { return a.Line - b.Line })
		return d
	}
	b, _ := json.Marshal(obj)
	d.Object, d.Digest = obj, digest(b)
	return d
}

func decodeJSON(plain any, obj Object) error {
	b, err := json.Marshal(plain)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return fmt.Errorf("decode document: %w", err)
	}
	return nil
}

// markDuplicates reports a second object of the same kind and name in one file.
func markDuplicates(file string, docs []Document) {
	first := map[Key]*Document{}
	for i := range docs {
		d := &docs[i]
		if d.Key.Kind == "" || d.Key.Name == "" {
			continue
		}
		f, dup := first[d.Key]
		if !dup {
			first[d.Key] = d
			continue
		}
		d.Object = nil
		d.Errors = append(d.Errors, &Error{File: file, Line: d.Line, Document: d.Index, Kind: d.Key.Kind, Name: d.Key.Name, Field: "metadata.name",
			Detail: fmt.Sprintf("defined twice in this file, first in document %d at line %d (valid: names unique per kind)", f.Index, f.Line)})
	}
}

// tabIndented returns the first line whose indentation holds a tab.
func tabIndented(text []byte) (int, bool) {
	for i, l := range bytes.Split(text, []byte("\n")) {
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 && len(bytes.TrimSpace(l)) > 0 {
			return i + 1, true
		}
	}
	return 0, false
}

func mapAt(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

func scalarAt(n *yaml.Node, key string) string {
	v := mapAt(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return ""
	}
	return v.Value
}

func lineOfKey(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

var (
	guessKind = regexp.MustCompile(`(?m)^kind:\s*["']?([A-Za-z]+)`)
	guessName = regexp.MustCompile(`(?m)^metadata:\s*\n(?:[ \t]+#.*\n)*[ \t]+name:\s*["']?([a-z0-9-]+)`)
)

// guessKey reads kind and name from a document that is not valid YAML, so that the object it
// was meant to be can still be marked Stalled.
func guessKey(text []byte) Key {
	var k Key
	if m := guessKind.FindSubmatch(text); m != nil {
		k.Kind = string(m[1])
	}
	if k.Kind != KindRecipeTest && k.Kind != KindWarmCanonical {
		return Key{}
	}
	if m := guessName.FindSubmatch(text); m != nil {
		k.Name = string(m[1])
	}
	return k
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
