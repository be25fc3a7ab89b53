package v1

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the YAML nodes one document may expand to. A real resource has a few hundred;
// the bound stops alias bombs ("billion laughs"), whose node tree is small but whose expansion
// is exponential. The parser itself never expands aliases: only this walk does.
const maxNodes = 10000

var (
	durationType = reflect.TypeOf(Duration{})
	envType      = reflect.TypeOf(Env{})
)

// decoder walks a YAML node tree against a Go type. It rejects unknown fields and values of the
// wrong shape with the field path and line, and builds the plain value (maps, lists, strings,
// bools) that encoding/json then decodes into the typed object.
type decoder struct {
	offset int // line of the document's first line in the file, minus one
	nodes  int
	errs   []*lineError
	lines  map[string]int
}

// lineError is a field error with the line it was found on.
type lineError struct {
	FieldError
	line int
}

func newDecoder(offset int) *decoder {
	return &decoder{offset: offset, lines: map[string]int{}}
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &lineError{FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}, d.line(n)})
}

func (d *decoder) line(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return n.Line + d.offset
}

// lineOf returns the line of field, or of its nearest ancestor the document has, e.g. the line
// of spec.source for a missing spec.source.git.
func (d *decoder) lineOf(field string) int {
	for field != "" {
		if l, ok := d.lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

// rejected reports whether the decoder already reported field, one of its parents or children.
func (d *decoder) rejected(field string) bool {
	for _, e := range d.errs {
		if e.Field == field || strings.HasPrefix(field, e.Field+".") || strings.HasPrefix(field, e.Field+"[") ||
			strings.HasPrefix(e.Field, field+".") || strings.HasPrefix(e.Field, field+"[") {
			return true
		}
	}
	return false
}

// resolve follows an alias and counts the node against the expansion budget. It returns nil
// once the budget is spent, after recording one error.
func (d *decoder) resolve(n *yaml.Node, field string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes++
	if d.nodes == maxNodes+1 {
		d.fail(n, field, "the document expands to more than %d YAML nodes, through aliases (valid: a resource without deeply nested aliases)", maxNodes)
	}
	if d.nodes > maxNodes {
		return nil
	}
	return n
}

// keys remembers the keys of one YAML map, to report a key written twice. YAML forbids
// duplicate keys, but the parser keeps both and a plain decode lets the last win: a reviewer
// would read the first line while the controller used the second.
type keys map[string]*yaml.Node

// duplicate reports whether k was already a key of this map, after recording one error that
// names both lines. field is the path of the map's entry, e.g. spec.source.git.
func (d *decoder) duplicate(seen keys, k *yaml.Node, field string) bool {
	first, dup := seen[k.Value]
	if !dup {
		seen[k.Value] = k
		return false
	}
	const valid = "valid: each key once in a map; remove one of them"
	if a, b := d.line(first), d.line(k); a != b {
		d.fail(k, field, "key written twice, at lines %d and %d (%s)", a, b, valid)
	} else {
		d.fail(k, field, "key written twice on line %d (%s)", b, valid)
	}
	return true
}

// value decodes n as a value of type t at field. ok is false when the field is null and should
// be left unset, or when an error was recorded.
func (d *decoder) value(n *yaml.Node, t reflect.Type, field string) (v any, ok bool) {
	if n = d.resolve(n, field); n == nil {
		return nil, false
	}
	if field != "" {
		if _, seen := d.lines[field]; !seen {
			d.lines[field] = d.line(n)
		}
	}
	if n.ShortTag() == "!!null" {
		return nil, false
	}
	switch {
	case t == durationType:
		return d.duration(n, field)
	case t.Kind() == reflect.Pointer:
		return d.value(n, t.Elem(), field)
	case t.Kind() == reflect.Struct:
		return d.object(n, t, field)
	case t.Kind() == reflect.Slice:
		return d.list(n, t, field)
	case t == envType:
		return d.stringMap(n, field, true)
	case t.Kind() == reflect.Map && t.Elem().Kind() != reflect.String:
		return d.objectMap(n, t, field)
	case t.Kind() == reflect.Map:
		return d.stringMap(n, field, false)
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.fail(n, field, "got %s (valid: true or false)", describe(n))
			return nil, false
		}
		b, _ := strconv.ParseBool(n.Value)
		return b, true
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode || !isStringTag(n.ShortTag()) {
			hint := ""
			if n.Kind == yaml.ScalarNode {
				hint = fmt.Sprintf("; quote it: %q", n.Value)
			}
			d.fail(n, field, "got %s (valid: a string%s)", describe(n), hint)
			return nil, false
		}
		return n.Value, true
	}
	panic("decode: unsupported type " + t.String())
}

func (d *decoder) object(n *yaml.Node, t reflect.Type, field string) (any, bool) {
	fields, names := jsonFields(t), jsonFieldNames(t)
	if field == "" {
		// Status belongs to the controller and lives in the state directory.
		delete(fields, "status")
		names = slices.DeleteFunc(names, func(s string) bool { return s == "status" })
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "got %s (valid: a map with the fields %s)", describe(n), fieldList(names))
		return nil, false
	}
	out, seen := map[string]any{}, keys{}
	for i := 0; i+1 < len(n.Content) && d.nodes <= maxNodes; i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k = d.resolve(k, field); k == nil {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			d.fail(k, field, "got %s as a key (valid: field names; anchors may be used for values, merge keys are not supported)", describe(k))
			continue
		}
		p := join(field, k.Value)
		if d.duplicate(seen, k, p) {
			continue
		}
		f, known := fields[k.Value]
		if !known && p == "status" {
			d.fail(k, p, "not allowed in a resource file (valid: remove it; status lives in the state directory and is shown by get and describe)")
			continue
		}
		if !known {
			d.fail(k, p, "unknown field (valid: %s)", fieldList(names))
			continue
		}
		d.lines[p] = d.line(k)
		v, set := d.value(val, f, p)
		if set {
			out[k.Value] = v
		}
	}
	// Errors are recorded in d.errs; the fields that decoded still count, so that validation
	// can report the problems of the other fields too.
	return out, true
}

func (d *decoder) list(n *yaml.Node, t reflect.Type, field string) (any, bool) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "got %s (valid: a list)", describe(n))
		return nil, false
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		if d.nodes > maxNodes {
			break
		}
		p := fmt.Sprintf("%s[%d]", field, i)
		if item.ShortTag() == "!!null" {
			d.fail(item, p, "empty item (valid: a value; remove the empty '-')")
			continue
		}
		if v, set := d.value(item, t.Elem(), p); set {
			out = append(out, v)
		}
	}
	return out, true
}

func (d *decoder) duration(n *yaml.Node, field string) (any, bool) {
	const valid = "valid: a positive duration such as 90s, 10m or 1h30m"
	if n.Kind != yaml.ScalarNode {
		d.fail(n, field, "got %s (%s)", describe(n), valid)
		return nil, false
	}
	v, err := ParseDuration(n.Value)
	switch {
	case err != nil:
		d.fail(n, field, "%q is not a duration (%s)", n.Value, valid)
		return nil, false
	case v.Duration <= 0:
		d.fail(n, field, "%q is not positive (%s)", n.Value, valid)
		return nil, false
	}
	return n.Value, true
}

func isStringTag(tag string) bool { return tag == "!!str" || tag == "!!timestamp" || tag == "!!binary" }

// describe names a node's shape for an error message: a map, a list, the number 3.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "null"
	}
	return strconv.Quote(n.Value)
}

// jsonFields maps the JSON names of t's fields to their types, with embedded structs inlined.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		case name != "" && name != "-" && f.IsExported():
			out[name] = f.Type
		}
	}
	return out
}

// jsonFieldNames returns the JSON names of t's fields in declaration order, embedded structs
// inlined: "valid: ..." hints list fields in this order.
func jsonFieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "":
			out = append(out, jsonFieldNames(f.Type)...)
		case name != "" && name != "-" && f.IsExported():
			out = append(out, name)
		}
	}
	return out
}

func fieldList(names []string) string { return strings.Join(names, ", ") }

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}
