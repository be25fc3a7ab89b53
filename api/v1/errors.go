package v1

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one problem with one field of an object.
type FieldError struct {
	// Field is the path of the field, e.g. spec.tiers[1].from.
	Field string
	// Detail says what is wrong and, in parentheses, what would be valid.
	Detail string
}

// Error returns "field.path: detail".
func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

// FieldErrors is every problem of an object; empty when the object is valid.
type FieldErrors []*FieldError

// Error joins the errors with "; ".
func (l FieldErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Err returns nil when l is empty and l otherwise, so that a valid object does not yield a
// non-nil error interface.
func (l FieldErrors) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

func (l *FieldErrors) add(field, format string, args ...any) {
	*l = append(*l, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// Error is a problem found in a resource file: it names the file, the line when known, the
// object (or the document when the object cannot be named), the field and what would be valid.
type Error struct {
	// File is the path of the file as given to Parse.
	File string
	// Line is the 1-based line of the problem, 0 when unknown or the whole file.
	Line int
	// Document is the 1-based index of the YAML document in the file, 0 for the whole file.
	Document int
	// Kind and Name identify the object, as far as they could be read.
	Kind, Name string
	// Field is the field path, empty for a problem of the whole document or file.
	Field string
	// Detail says what is wrong and, in parentheses, what would be valid.
	Detail string
}

// Key returns the object's kind and name as far as they could be read.
func (e *Error) Key() Key { return Key{Kind: e.Kind, Name: e.Name} }

// Error formats the problem as FILE[:LINE]: Kind "name": field.path: detail. Without a name
// the object is named by its document index, e.g. FILE:7: document 2: kind: missing (...).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	switch {
	case e.Kind != "" && e.Name != "":
		fmt.Fprintf(&b, "%s %q: ", e.Kind, e.Name)
	case e.Kind != "":
		fmt.Fprintf(&b, "document %d: %s (no name): ", e.Document, e.Kind)
	case e.Document > 0:
		fmt.Fprintf(&b, "document %d: ", e.Document)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// Errors is a list of problems in resource files. Parse and internal/resources return it.
type Errors []*Error

// Error returns one problem per line.
func (l Errors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Err returns nil when l is empty and l otherwise.
func (l Errors) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
