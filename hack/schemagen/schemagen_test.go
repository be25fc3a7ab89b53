package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/xeipuuv/gojsonschema"
	"go.yaml.in/yaml/v3"
)

const (
	apiDir    = "../../api/v1"
	schemaDir = "../../config/schema"
)

// documents decodes every YAML document of a file into plain values, as an editor's schema
// validator sees them.
func documents(path string) []any {
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred(), path)
		if v != nil {
			out = append(out, v)
		}
	}
}

func combinedSchema() *gojsonschema.Schema {
	abs, err := filepath.Abs(filepath.Join(schemaDir, combinedFile))
	Expect(err).NotTo(HaveOccurred())
	s, err := gojsonschema.NewSchema(gojsonschema.NewReferenceLoader("file://" + abs))
	Expect(err).NotTo(HaveOccurred())
	return s
}

var _ = Describe("the committed JSON Schemas", func() {
	It("are what schemagen generates from api/v1 now", func() {
		files, err := Generate(apiDir)
		Expect(err).NotTo(HaveOccurred())
		committed, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(committed).To(HaveLen(len(files)), "config/schema holds other files than schemagen writes")
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(schemaDir, name))
			Expect(err).NotTo(HaveOccurred(), "config/schema/%s is missing: run make schema (go generate ./api/v1)", name)
			Expect(string(got)).To(Equal(string(want)), "config/schema/%s is stale: run make schema (go generate ./api/v1)", name)
		}
	})

	It("describe fields with their doc comments and mark the required ones", func() {
		files, err := Generate(apiDir)
		Expect(err).NotTo(HaveOccurred())
		rt := string(files[recipeTestFile])
		Expect(rt).To(ContainSubstring(`"description": "Timeout bounds a whole test run, all tiers included. A duration such as 30m or 1h. Optional. Defaults to ` + "`30m`" + `."`))
		Expect(rt).To(ContainSubstring(`"required": [
    "apiVersion",
    "kind",
    "metadata",
    "spec"
  ]`))
		Expect(rt).NotTo(ContainSubstring(`"status"`))
	})

	DescribeTable("accept the valid fixtures and samples",
		func(glob string) {
			files, err := filepath.Glob(glob)
			Expect(err).NotTo(HaveOccurred())
			Expect(files).NotTo(BeEmpty())
			s := combinedSchema()
			for _, f := range files {
				for i, doc := range documents(f) {
					res, err := s.Validate(gojsonschema.NewGoLoader(doc))
					Expect(err).NotTo(HaveOccurred())
					Expect(res.Errors()).To(BeEmpty(), "%s document %d", f, i+1)
				}
			}
		},
		Entry("api/v1 valid fixtures", filepath.Join(apiDir, "testdata/valid/*.yaml")),
		Entry("config/samples", "../../config/samples/*.yaml"),
	)

	DescribeTable("reject what the parser rejects",
		func(doc string, field string) {
			var v any
			Expect(yaml.Unmarshal([]byte(doc), &v)).To(Succeed())
			res, err := combinedSchema().Validate(gojsonschema.NewGoLoader(v))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Valid()).To(BeFalse())
			var fields []string
			for _, e := range res.Errors() {
				fields = append(fields, e.Field())
			}
			Expect(fields).To(ContainElement(field))
		},
		Entry("an unknown field", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: a}\nspec: {verison: latest}\n", "spec"),
		Entry("an unknown kind", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonicle\nmetadata: {name: a}\n", "kind"),
		Entry("a bad version", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: a}\nspec: {version: '3.6'}\n", "spec.version"),
		Entry("a bad duration", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: a}\nspec: {interval: 10 minutes}\n", "spec.interval"),
		Entry("a bad tier", "apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata: {name: a}\nspec: {source: {git: x}, tiers: [{name: smoke}]}\n", "spec.tiers.0.name"),
		Entry("a status", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: a}\nstatus: {}\n", "(root)"),
		Entry("a missing source", "apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata: {name: a}\nspec: {}\n", "spec"),
		Entry("a name with capitals", "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: Gitea}\n", "metadata.name"),
	)
})
