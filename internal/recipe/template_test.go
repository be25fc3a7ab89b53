package recipe_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("RenderEnv", func() {
	data := recipe.TemplateData{Stack: "ccci_gitea_ab12", Recipe: "gitea", RunID: "ab12", Version: "1.0.0+1.0"}

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
	)

	DescribeTable("rejects what cannot render, naming the variable and the key",
		func(value string, want ...string) {
			_, err := recipe.RenderEnv(map[string]string{"DOMAIN": value}, data)
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("an unknown key", "{{ .Stak }}.example.org", "env DOMAIN", `unknown key "Stak"`, "valid: Recipe, RunID, Stack, Version"),
		Entry("an unknown key in a pipeline", "{{ printf \"%s\" .Domain }}", `unknown key "Domain"`),
		Entry("a syntax error", "{{ .Stack ", "env DOMAIN", "parse template"),
	)
})
