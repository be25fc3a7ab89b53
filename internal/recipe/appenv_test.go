package recipe_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("Contents.App", func() {
	var c *recipe.Contents

	BeforeEach(func() {
		dir := GinkgoT().TempDir()
		writeTree(dir, map[string]string{
			".env.sample":     "DOMAIN=x.example.org\nCOMPOSE_FILE=\"compose.yml:compose.a.yml\"\nSECRET_DB_VERSION=v1\n",
			"abra.sh":         "export CONFIG_VERSION=v2\n",
			"compose.yml":     "services: {app: {image: a:1}}\n",
			"compose.a.yml":   "services: {a: {image: a:1}}\n",
			"compose.lfs.yml": "services: {lfs: {image: l:1}}\n",
		})
		var err error
		c, err = recipe.ReadContents(dir, nil, "")
		Expect(err).NotTo(HaveOccurred())
	})

	It("extends the recipe's COMPOSE_FILE as an abra env file does", func() {
		app, err := c.App(recipe.AppOptions{Stack: "s", Templated: map[string]string{"COMPOSE_FILE": "$COMPOSE_FILE:compose.lfs.yml"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(app.ComposeFiles).To(Equal([]string{"compose.yml", "compose.a.yml", "compose.lfs.yml"}))
		Expect(app.Env).To(HaveKeyWithValue("COMPOSE_FILE", "compose.yml:compose.a.yml:compose.lfs.yml"))

		app, err = c.App(recipe.AppOptions{Stack: "s", Env: map[string]string{"COMPOSE_FILE": "${COMPOSE_FILE}:compose.lfs.yml"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(app.ComposeFiles).To(Equal([]string{"compose.yml", "compose.a.yml", "compose.lfs.yml"}))
	})

	It("names spec.env when its COMPOSE_FILE lists a file the recipe lacks", func() {
		_, err := c.App(recipe.AppOptions{Stack: "s", Templated: map[string]string{"COMPOSE_FILE": "$COMPOSE_FILE:compose.gone.yml"}})
		Expect(err).To(MatchError(ContainSubstring(`COMPOSE_FILE "compose.yml:compose.a.yml:compose.gone.yml" of spec.env: compose file "compose.gone.yml"`)))
	})

	It("gives a test stack and a warm app the same env for the same inputs, their names aside", func() {
		spec := map[string]string{"DOMAIN": "{{ .Stack }}.test", "SMTP": "on"}
		test, err := c.App(recipe.AppOptions{Stack: "ccci_r_1", Recipe: "r", RunID: "1", Version: "1.0.0+1", Templated: spec})
		Expect(err).NotTo(HaveOccurred())
		warm, err := c.App(recipe.AppOptions{Stack: "warm_r", Recipe: "r", Version: "1.0.0+1", Templated: spec})
		Expect(err).NotTo(HaveOccurred())
		Expect(test.Env).To(HaveKeyWithValue("DOMAIN", "ccci_r_1.test"))
		Expect(warm.Env).To(HaveKeyWithValue("DOMAIN", "warm_r.test"))
		for _, k := range []string{"DOMAIN", "STACK_NAME"} {
			delete(test.Env, k)
			delete(warm.Env, k)
		}
		Expect(test.Env).To(Equal(warm.Env))
		Expect(test.Env).To(Equal(map[string]string{
			"COMPOSE_FILE": "compose.yml:compose.a.yml", "SECRET_DB_VERSION": "v1", "CONFIG_VERSION": "v2", "SMTP": "on",
		}))
		Expect(test.ComposeFiles).To(Equal(warm.ComposeFiles))
	})

	It("lays the warm app's own env over the RecipeTest's", func() {
		app, err := c.App(recipe.AppOptions{Stack: "w", Templated: map[string]string{"DOMAIN": "t"}, Env: map[string]string{"DOMAIN": "w.example.org"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(app.Env).To(HaveKeyWithValue("DOMAIN", "w.example.org"))
		Expect(app.Env).To(HaveKeyWithValue("STACK_NAME", "w"))
	})
})
