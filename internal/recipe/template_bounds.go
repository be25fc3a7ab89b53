package recipe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// Bounds of one rendered env value. A real value renders a domain or a URL from a few keys;
// without bounds {{range 1000000}}{{range 1000000}}…{{end}}{{end}} never ends and a 120-byte
// value can render to hundreds of megabytes.
const (
	// MaxTemplateLoops is how many times the ranges of one value may repeat, all together.
	MaxTemplateLoops = 1000
	// MaxRenderedValue is the most bytes one value may render to, and the most one function
	// of it (printf, print, html, …) may build, 64 KiB.
	MaxRenderedValue = 64 << 10
	// renderTimeout bounds the rendering of one value. The other bounds make it fast; this
	// one is a backstop for what they miss.
	renderTimeout = time.Second
)

// loopFunc is the function every range body calls first, to count iterations. Its name is
// one a template cannot mistake for a useful function.
const loopFunc = "ccciCountLoop"

// limitError is a template that went over one of the bounds: the template's fault whatever
// the data, so validate reports it while it ignores errors that depend on real data.
type limitError struct{ detail string }

func (e *limitError) Error() string { return e.detail }

// bounds counts what one rendering has used.
type bounds struct {
	ctx   context.Context
	loops int
}

func (b *bounds) check() error {
	if b.ctx.Err() != nil {
		return &limitError{fmt.Sprintf("rendering took longer than %s (valid: a template that renders a short value)", renderTimeout)}
	}
	return nil
}

func (b *bounds) loop() (string, error) {
	if b.loops++; b.loops > MaxTemplateLoops {
		return "", &limitError{fmt.Sprintf("loops more than %d times (valid: ranges that repeat at most %d times in all)", MaxTemplateLoops, MaxTemplateLoops)}
	}
	return "", b.check()
}

func tooLong(what string) error {
	return &limitError{fmt.Sprintf("%s over %d bytes (valid: a value of at most 64 KiB)", what, MaxRenderedValue)}
}

// funcs replaces the builtins that build strings with bounded ones: each refuses to start on
// more input than a value may hold, so nesting (html (html …)) or many arguments cannot
// allocate more than a few times the bound.
func (b *bounds) funcs() template.FuncMap {
	wrap := func(name string, f func(...any) string) func(...any) (string, error) {
		return func(args ...any) (string, error) {
			if err := b.check(); err != nil {
				return "", err
			}
			if argsSize(args) > MaxRenderedValue {
				return "", tooLong("the arguments of " + name + " are")
			}
			out := f(args...)
			if len(out) > MaxRenderedValue {
				return "", tooLong("the result of " + name + " is")
			}
			return out, nil
		}
	}
	return template.FuncMap{
		loopFunc:   b.loop,
		"print":    wrap("print", fmt.Sprint),
		"println":  wrap("println", fmt.Sprintln),
		"html":     wrap("html", template.HTMLEscaper),
		"js":       wrap("js", template.JSEscaper),
		"urlquery": wrap("urlquery", template.URLQueryEscaper),
		"printf": func(format string, args ...any) (string, error) {
			if err := b.check(); err != nil {
				return "", err
			}
			if len(format)+formatWidths(format)+argsSize(args) > MaxRenderedValue {
				return "", tooLong("the result of printf would be")
			}
			out := fmt.Sprintf(format, args...)
			if len(out) > MaxRenderedValue {
				return "", tooLong("the result of printf is")
			}
			return out, nil
		},
	}
}

// argsSize is about how many bytes args print to. Strings are the only large values a
// template can make; the data's own values are small.
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		if s, ok := a.(string); ok {
			n += len(s)
		} else {
			n += len(fmt.Sprint(a))
		}
	}
	return n
}

// formatWidths adds up the widths and precisions a printf format asks for (%08d, %.3f), or
// returns more than MaxRenderedValue for one taken from an argument (%*d), which the format
// alone does not bound.
func formatWidths(format string) int {
	total := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format) && strings.IndexByte("+-# 0.[]*0123456789", format[i]) >= 0; i++ {
			switch c := format[i]; {
			case c == '*':
				return MaxRenderedValue + 1
			case c >= '1' && c <= '9':
				n := 0
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n = n*10 + int(format[i]-'0'); n > MaxRenderedValue {
						return n
					}
				}
				total += n
				i--
			}
		}
	}
	return total
}

// parseBounded parses value with the bounded functions and counts the iterations of every
// range. Templates may not define or call other templates: a value has no use for them, and
// they are the one way to recurse.
func parseBounded(name, value string, b *bounds) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(b.funcs()).Parse(value)
	if err != nil {
		return nil, err
	}
	if len(t.Templates()) > 1 || hasTemplateCall(t.Tree.Root) {
		return nil, errors.New("defines or calls a template (valid: a value with actions such as {{ .Stack }}, if and range, without define, block or template)")
	}
	counter, err := template.New("").Funcs(template.FuncMap{loopFunc: b.loop}).Parse("{{" + loopFunc + "}}")
	if err != nil {
		return nil, fmt.Errorf("parse loop counter: %w", err)
	}
	countLoops(t.Tree.Root, counter.Tree.Root.Nodes[0])
	return t, nil
}

// countLoops puts count first in the body of every range under n.
func countLoops(n parse.Node, count parse.Node) {
	eachNode(n, func(n parse.Node) {
		if r, ok := n.(*parse.RangeNode); ok {
			if r.List == nil {
				r.List = &parse.ListNode{NodeType: parse.NodeList}
			}
			r.List.Nodes = append([]parse.Node{count}, r.List.Nodes...)
		}
	})
}

func hasTemplateCall(n parse.Node) bool {
	found := false
	eachNode(n, func(n parse.Node) {
		if _, ok := n.(*parse.TemplateNode); ok {
			found = true
		}
	})
	return found
}

// eachNode calls f on n and on every list node below it, before walking into it.
func eachNode(n parse.Node, f func(parse.Node)) {
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			eachNode(c, f)
		}
	case *parse.IfNode:
		eachNode(n.List, f)
		eachNode(n.ElseList, f)
	case *parse.RangeNode:
		eachNode(n.List, f)
		eachNode(n.ElseList, f)
	case *parse.WithNode:
		eachNode(n.List, f)
		eachNode(n.ElseList, f)
	}
}

// boundedWriter keeps a rendered value, refusing to grow past MaxRenderedValue.
type boundedWriter struct {
	strings.Builder
	b *bounds
}

func (w *boundedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > MaxRenderedValue {
		return 0, tooLong("the rendered value is")
	}
	if err := w.b.check(); err != nil {
		return 0, err
	}
	return w.Builder.Write(p)
}
