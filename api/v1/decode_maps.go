package v1

import (
	"reflect"

	"go.yaml.in/yaml/v3"
)

// stringMap decodes env, labels and annotations. Values may be any scalar and keep their text,
// so PORT: 8080 and DEBUG: true mean "8080" and "true" as in a .env file; with age (spec.env)
// a value may also be {age: <ciphertext>}.
func (d *decoder) stringMap(n *yaml.Node, field string, age bool) (any, bool) {
	valid := "a map of names to strings"
	if age {
		valid += " or {age: <age -a output>}"
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "got %s (valid: %s)", describe(n), valid)
		return nil, false
	}
	out, seen := map[string]any{}, keys{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i], field)
		v := d.resolve(n.Content[i+1], field)
		if k == nil || v == nil {
			return nil, false
		}
		p := join(field, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k, field, "got %s as a key (valid: a name)", describe(k))
			continue
		case d.duplicate(seen, k, p):
			continue
		}
		d.lines[p] = d.line(k)
		switch {
		case age && v.Kind == yaml.MappingNode:
			if ct, ok := d.ageValue(v, p); ok {
				out[k.Value] = map[string]any{"age": ct}
			}
		case v.Kind != yaml.ScalarNode && age:
			d.fail(v, p, "got %s (valid: a string, or {age: <age -a output>})", describe(v))
		case v.Kind != yaml.ScalarNode:
			d.fail(v, p, "got %s (valid: a string)", describe(v))
		case v.ShortTag() == "!!null":
			out[k.Value] = ""
		default:
			out[k.Value] = v.Value
		}
	}
	return out, true
}

// ageValue reads {age: <ciphertext>}, the one map an env value may be. Its errors never
// quote the value.
func (d *decoder) ageValue(n *yaml.Node, field string) (string, bool) {
	if len(n.Content) != 2 {
		d.fail(n, field, "a map with %d fields (valid: a string, or {age: <age -a output>} alone)", len(n.Content)/2)
		return "", false
	}
	k, v := d.resolve(n.Content[0], field), d.resolve(n.Content[1], field)
	if k == nil || v == nil {
		return "", false
	}
	if k.Kind != yaml.ScalarNode || k.Value != "age" {
		d.fail(k, field, "unknown field (valid: a string, or {age: <age -a output>})")
		return "", false
	}
	if v.Kind != yaml.ScalarNode || !isStringTag(v.ShortTag()) || v.Value == "" {
		d.fail(v, field+".age", "not a string, which is not shown (valid: the output of age -a)")
		return "", false
	}
	return v.Value, true
}

// objectMap decodes a map of names to values of t's element type (spec.secrets).
func (d *decoder) objectMap(n *yaml.Node, t reflect.Type, field string) (any, bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, field, "got %s (valid: a map of names to %s)", describe(n), t.Elem().Name())
		return nil, false
	}
	out, seen := map[string]any{}, keys{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i], field)
		v := d.resolve(n.Content[i+1], field)
		if k == nil || v == nil {
			return nil, false
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, field, "got %s as a key (valid: a name)", describe(k))
			ok = false
			continue
		}
		p := join(field, k.Value)
		if d.duplicate(seen, k, p) {
			ok = false
			continue
		}
		d.lines[p] = d.line(k)
		if v.Kind == yaml.ScalarNode && t.Elem().Kind() == reflect.Struct {
			// Never echo it: a plain value here is likely a pasted secret.
			d.fail(v, p, "got a plain value, which is not shown (valid: a map with the fields %s)", fieldList(jsonFieldNames(t.Elem())))
			ok = false
			continue
		}
		val, good := d.value(v, t.Elem(), p)
		if !good {
			ok = false
			continue
		}
		out[k.Value] = val
	}
	return out, ok
}
