// Command schemagen writes the JSON Schemas of the api/v1 resources to config/schema, from the
// Go types by reflection and from their doc comments (read with go/ast) as descriptions, so
// that an editor with yaml-language-server validates resource files while the operator types.
// Run it with `go generate ./api/v1` (or make schema); a test fails when the committed
// schemas are stale. It generates files only and must not be imported.
package main
