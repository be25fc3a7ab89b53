package recipe_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("RenderEnv", func() {
	data := recipe.TemplateData{Stack: "ccci_gitea_ab12", Recipe: "gitea", RunID: "ab12", Version: "1.0.0+1.0",
		Requires: map[string]recipe.RequiredApp{"keycloak": {Stack: "ccci_keycloak_ab12_req", Env: map[string]string{"DOMAIN": "sso.example.org"},
			Networks: []string{"ccci_keycloak_ab12_req_internal", "proxy"}}}}

	DescribeTable("renders values against the stack",
		func(value, want string) {
			got, err := recipe.RenderEnv(map[string]string{"V": value}, data)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(HaveKeyWithValue("V", want))
		},
		Entry("the stack in a domain", "{{ .Stack }}.test.example.org", "ccci_gitea_ab12.test.example.org"),
		Entry("several keys", "{{.Recipe}}-{{.RunID}}-{{.Version}}", "gitea-ab12-1.0.0+1.0"),
		Entry("no template", "plain $VALUE", "plain $VALUE"),
		Entry("a key inside if", "{{ if .Stack }}yes{{ end }}", "yes"),
		Entry("a required app's stack", "http://{{ .Requires.keycloak.Stack }}_app:8080", "http://ccci_keycloak_ab12_req_app:8080"),
		Entry("a required app's env", "https://{{ .Requires.keycloak.Env.DOMAIN }}/realms/ci", "https://sso.example.org/realms/ci"),
		Entry("a required app's networks", `{{ index .Requires.keycloak.Networks 1 }}`, "proxy"),
	)

	DescribeTable("rejects what cannot render, naming the variable and the key",
		func(value string, want ...string) {
			_, err := recipe.RenderEnv(map[string]string{"DOMAIN": value}, data)
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("an unknown key", "{{ .Stak }}.example.org", "env DOMAIN", `unknown key "Stak"`, "valid: Recipe, Requires, RunID, Stack, Version"),
		Entry("an app not required", "{{ .Requires.authentik.Stack }}", "env DOMAIN", "authentik"),
		Entry("an unknown key in a pipeline", "{{ printf \"%s\" .Domain }}", `unknown key "Domain"`),
		Entry("a syntax error", "{{ .Stack ", "env DOMAIN", "parse template"),
	)

	DescribeTable("stops a template that goes over a bound, quickly",
		func(value, want string) {
			// The message says which bound stopped it: the bounds, not the one-second
			// deadline, stop these, within microseconds.
			_, err := recipe.RenderEnv(map[string]string{"DOMAIN": value}, data)
			Expect(err).To(MatchError(ContainSubstring(want)))
			Expect(err.Error()).To(HavePrefix("env DOMAIN: "))
		},
		Entry("nested ranges of a million", "{{range 1000000}}{{range 1000000}}{{range 1000000}}x{{end}}{{end}}{{end}}", "loops more than 1000 times"),
		Entry("an empty range body", "{{range 100000000}}{{end}}", "loops more than 1000 times"),
		Entry("a range in an else branch", "{{if false}}{{else}}{{range 2000}}{{end}}{{end}}", "loops more than 1000 times"),
		Entry("a value that renders past 64 KiB", "{{range 1000}}{{printf \"%100s\" $.Stack}}{{end}}", "the rendered value is over 65536 bytes"),
		Entry("a printf width past 64 KiB", "{{printf \"%0999999999d\" 1}}", "the result of printf would be over 65536 bytes"),
		Entry("a width from an argument", "{{printf \"%*d\" 999999999 1}}", "the result of printf would be over 65536 bytes"),
		Entry("a string doubled in a loop", "{{$x := .Stack}}{{range 30}}{{$x = print $x $x}}{{end}}{{len $x}}", "the arguments of print are over 65536 bytes"),
		Entry("escaping that grows", "{{$x := \"<<<<<<<<<<\"}}{{range 12}}{{$x = print $x $x}}{{end}}{{html $x}}", "the result of html is over 65536 bytes"),
		Entry("a recursive template", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "defines or calls a template"),
		Entry("a block", `{{block "b" .}}x{{end}}`, "defines or calls a template"),
	)

	It("renders a bounded loop over the data", func() {
		got, err := recipe.RenderEnv(map[string]string{"V": "{{range .Requires.keycloak.Networks}}{{.}},{{end}}{{range 998}}{{end}}"}, data)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveKeyWithValue("V", "ccci_keycloak_ab12_req_internal,proxy,"))
	})
})

var _ = Describe("CheckTemplate", func() {
	It("reports syntax, unknown keys and bounds, with placeholder data", func() {
		Expect(recipe.CheckTemplate("DOMAIN", "{{ .Stack }}.example.org", nil)).To(Succeed())
		Expect(recipe.CheckTemplate("DOMAIN", "{{ .Stack ", nil)).To(MatchError(ContainSubstring("parse template")))
		Expect(recipe.CheckTemplate("DOMAIN", "{{ .Stak }}", nil)).To(MatchError(ContainSubstring(`unknown key "Stak"`)))
		Expect(recipe.CheckTemplate("DOMAIN", "{{range 1000000}}{{range 1000000}}{{end}}{{end}}", nil)).To(MatchError(ContainSubstring("loops more than 1000 times")))
	})

	It("leaves errors of the real data to the run", func() {
		Expect(recipe.CheckTemplate("URL", "{{ .Requires.keycloak.Env.DOMAIN }}", []string{"keycloak"})).To(Succeed())
		Expect(recipe.CheckTemplate("NET", "{{ index .Requires.keycloak.Networks 5 }}", []string{"keycloak"})).To(Succeed())
	})
})
