package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Schema file names under config/schema.
const (
	recipeTestFile    = "recipetest.json"
	warmCanonicalFile = "warmcanonical.json"
	combinedFile      = "ccci.json"
	draft             = "http://json-schema.org/draft-07/schema#"
	schemaBase        = "https://coopcloud.tech/ccci-controller/schema/"
)

type schema = map[string]any

// Generate returns the schema files by name: one per kind and a combined one that picks the
// kind's schema from the document's kind, for files holding both kinds.
func Generate(src string) (map[string][]byte, error) {
	d, err := readDocs(src)
	if err != nil {
		return nil, err
	}
	rt := d.root(reflect.TypeOf(v1.RecipeTest{}), v1.KindRecipeTest)
	wc := d.root(reflect.TypeOf(v1.WarmCanonical{}), v1.KindWarmCanonical)
	combined := schema{
		"$schema":     draft,
		"$id":         schemaBase + combinedFile,
		"title":       "ccci-controller resource",
		"description": "A " + v1.APIVersion + " resource: " + strings.Join(v1.Kinds, " or ") + ", chosen by kind.",
		"type":        "object",
		"required":    []string{"apiVersion", "kind"},
		"properties":  schema{"kind": schema{"enum": v1.Kinds}},
		"definitions": schema{v1.KindRecipeTest: body(rt), v1.KindWarmCanonical: body(wc)},
		"allOf": []any{
			schema{"if": kindIs(v1.KindRecipeTest), "then": schema{"$ref": "#/definitions/" + v1.KindRecipeTest}},
			schema{"if": kindIs(v1.KindWarmCanonical), "then": schema{"$ref": "#/definitions/" + v1.KindWarmCanonical}},
		},
	}
	rt["$schema"], rt["$id"] = draft, schemaBase+recipeTestFile
	wc["$schema"], wc["$id"] = draft, schemaBase+warmCanonicalFile
	out := map[string][]byte{}
	for name, s := range map[string]schema{recipeTestFile: rt, warmCanonicalFile: wc, combinedFile: combined} {
		b, err := encode(s)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

func kindIs(kind string) schema {
	return schema{"required": []string{"kind"}, "properties": schema{"kind": schema{"const": kind}}}
}

// body is a root schema without $schema and $id, for the combined file's definitions.
func body(s schema) schema {
	out := schema{}
	for k, v := range s {
		if k != "$schema" && k != "$id" {
			out[k] = v
		}
	}
	return out
}

func encode(s schema) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// root is the schema of a resource file document of kind.
func (d docs) root(t reflect.Type, kind string) schema {
	s := d.object(t)
	s["title"] = kind
	props := s["properties"].(schema)
	props["kind"] = schema{"description": props["kind"].(schema)["description"], "const": kind}
	return s
}

// isStatus reports the status field of a kind, which never belongs in a resource file.
func isStatus(t reflect.Type, name string) bool {
	return name == "status" && (t == reflect.TypeOf(v1.RecipeTest{}) || t == reflect.TypeOf(v1.WarmCanonical{}))
}

// object is the schema of a struct type: its fields by JSON name, required ones from their doc
// comment ("Required."), no other fields allowed, as the parser rejects unknown fields.
func (d docs) object(t reflect.Type) schema {
	props := schema{}
	var required []string
	d.fields(t, props, &required)
	s := schema{"type": "object", "properties": props, "additionalProperties": false}
	if doc := d[t.Name()]; doc != "" {
		s["description"] = doc
	}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (d docs) fields(t reflect.Type, props schema, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			d.fields(f.Type, props, required)
			continue
		}
		if name == "" || name == "-" || !f.IsExported() || isStatus(t, name) {
			continue
		}
		key := t.Name() + "." + f.Name
		p := d.value(f.Type, key)
		if doc := d[key]; doc != "" {
			p["description"] = doc
			if strings.Contains(doc, "Required.") {
				*required = append(*required, name)
			}
		}
		props[name] = p
	}
}

// value is the schema of a field's type; key ("Type.Field") selects the field's constraints.
func (d docs) value(t reflect.Type, key string) schema {
	if c, ok := constraints()[key]; ok {
		return c()
	}
	switch t {
	case reflect.TypeOf(v1.Duration{}):
		return schema{"type": "string", "pattern": v1.DurationPattern}
	case reflect.TypeOf(v1.TierName("")):
		return schema{"type": "string", "enum": v1.TierNames}
	case reflect.TypeOf(v1.Trust("")):
		return schema{"type": "string", "enum": v1.Trusts}
	case reflect.TypeOf(v1.Mode("")):
		return schema{"type": "string", "enum": []v1.Mode{v1.ModeLive, v1.ModeData}}
	case reflect.TypeOf(v1.Env{}):
		// As in a .env file, PORT: 8080 and DEBUG: true are read as their text; a value may
		// also be {age: <age -a output>}.
		return schema{"type": "object", "propertyNames": schema{"pattern": v1.EnvNamePattern},
			"additionalProperties": schema{"oneOf": []schema{
				{"type": []string{"string", "number", "boolean", "null"}},
				{"type": "object", "required": []string{"age"}, "additionalProperties": false,
					"properties": schema{"age": schema{"type": "string", "minLength": 1}}},
			}}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return d.value(t.Elem(), key)
	case reflect.Struct:
		return d.object(t)
	case reflect.Slice:
		return schema{"type": "array", "items": d.value(t.Elem(), key+"[]")}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Struct {
			return schema{"type": "object", "additionalProperties": d.object(t.Elem())}
		}
		// As in a .env file, PORT: 8080 and DEBUG: true are read as their text.
		return schema{"type": "object", "propertyNames": schema{"pattern": v1.EnvNamePattern},
			"additionalProperties": schema{"type": []string{"string", "number", "boolean", "null"}}}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.String:
		return schema{"type": "string"}
	}
	panic("schemagen: unsupported type " + t.String())
}

// constraints are the field-specific rules the types alone do not say; the patterns come from
// api/v1, which validates with the same ones.
func constraints() map[string]func() schema {
	name := func() schema {
		return schema{"type": "string", "pattern": v1.NamePattern, "maxLength": v1.MaxNameLength}
	}
	tag := strings.TrimSuffix(strings.TrimPrefix(v1.VersionTagPattern, "^"), "$")
	return map[string]func() schema{
		"TypeMeta.APIVersion":          func() schema { return schema{"const": v1.APIVersion} },
		"ObjectMeta.Name":              name,
		"ObjectMeta.Labels":            stringMap,
		"ObjectMeta.Annotations":       stringMap,
		"RecipeTestSpec.Recipe":        name,
		"WarmCanonicalSpec.RecipeTest": name,
		"WarmCanonicalSpec.Version": func() schema {
			return schema{"type": "string", "pattern": "^(" + v1.VersionLatest + "|" + tag + ")$"}
		},
		"WarmCanonicalSpec.Stack": func() schema {
			return schema{"type": "string", "pattern": v1.StackPattern, "maxLength": v1.MaxStackLength}
		},
		"Tier.From": func() schema {
			return schema{"type": "string", "pattern": "^(" + v1.FromKnownGood + "|" + v1.FromPrevious + "|" + tag + ")$"}
		},
		"Tier.Command": func() schema {
			return schema{"type": "array", "minItems": 1, "items": schema{"type": "string"}}
		},
		"RecipeTestSpec.ExpectedNA": func() schema {
			return schema{"type": "array", "uniqueItems": true, "items": schema{"type": "string", "enum": v1.TierNames}}
		},
	}
}

func stringMap() schema {
	return schema{"type": "object", "additionalProperties": schema{"type": []string{"string", "number", "boolean", "null"}}}
}
