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
})
