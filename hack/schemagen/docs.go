package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
)

// docs holds the doc comments of api/v1: by type name, and by "Type.Field".
type docs map[string]string

// readDocs parses the Go files of dir (tests excluded) for type and field doc comments.
func readDocs(dir string) (docs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list sources in %s: %w", dir, err)
	}
	out := docs{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				out[ts.Name.Name] = text(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					for _, name := range field.Names {
						out[ts.Name.Name+"."+name.Name] = text(field.Doc)
					}
				}
			}
		}
	}
	return out, nil
}

// text joins a comment's lines into one paragraph, as editors show descriptions on hover.
func text(g *ast.CommentGroup) string {
	return strings.Join(strings.Fields(g.Text()), " ")
}
