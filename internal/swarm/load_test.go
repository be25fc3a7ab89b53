package swarm

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Load", func() {
	write := func(dir, name, content string) {
		Expect(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)).To(Succeed())
	}
	const base = `version: "3.8"
services:
  app:
    image: app:${TAG}
    deploy:
      labels:
        - "coop-cloud.${STACK_NAME}.version=1.0.0"
configs:
  motd:
    name: ${STACK_NAME}_motd_${MOTD_VERSION}
    file: motd.txt
`

	Context("when the raw files say what interpolation hides", func() {
		It("notes labels with variables in map keys and variables that interpolate to empty", func() {
			dir := GinkgoT().TempDir()
			write(dir, "compose.yml", `version: "3.8"
services:
  app:
    image: app:1
    environment:
      - A=${SET}
      - B=${UNSET}
      - C=${DEFAULTED:-x}
      - D=$$ESCAPED
      - E=$BARE
      - F=${EMPTY}
    deploy:
      labels:
        coop-cloud.${STACK_NAME}.version: "1.0.0"
        plain: "${UNSET}"
`)
			s, err := Load(LoadOptions{WorkingDir: dir, Env: map[string]string{"SET": "1", "EMPTY": ""}, StackName: "st"})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.KeyVariables).To(Equal([]string{`compose.yml: services.app.deploy.labels key "coop-cloud.${STACK_NAME}.version"`}))
			Expect(s.EmptyVariables).To(Equal([]string{"compose.yml: ${BARE}", "compose.yml: ${EMPTY}", "compose.yml: ${UNSET}"}))
			Expect(s.Config.Services[0].Deploy.Labels).To(HaveKey("coop-cloud.${STACK_NAME}.version"), "what Swarm would get")
		})
	})

	Context("when an overlay adds a service", func() {
		It("merges the files in order, interpolates from Env and STACK_NAME, and keeps raw config names", func() {
			dir := GinkgoT().TempDir()
			write(dir, "compose.yml", base)
			write(dir, "motd.txt", "hi")
			write(dir, "compose.worker.yml", "version: \"3.8\"\nservices:\n  worker:\n    image: app:${TAG}\n")
			s, err := Load(LoadOptions{WorkingDir: dir, ComposeFiles: []string{"compose.yml", "compose.worker.yml"},
				Env: map[string]string{"TAG": "1", "MOTD_VERSION": "v2"}, StackName: "st"})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Config.Services).To(HaveLen(2))
			Expect(s.Config.Services[0].Image).To(Equal("app:1"))
			Expect(s.Config.Services[0].Deploy.Labels).To(HaveKeyWithValue("coop-cloud.st.version", "1.0.0"))
			Expect(s.Config.Configs["motd"].Name).To(Equal("st_motd_v2"))
			Expect(s.nameTemplates["config"]["motd"]).To(Equal("${STACK_NAME}_motd_${MOTD_VERSION}"))
		})
	})

	DescribeTable("names the file and the key of a mistake",
		func(overlay string, want []string) {
			dir := GinkgoT().TempDir()
			write(dir, "compose.yml", base)
			write(dir, "motd.txt", "hi")
			write(dir, "compose.bad.yml", overlay)
			_, err := Load(LoadOptions{WorkingDir: dir, ComposeFiles: []string{"compose.yml", "compose.bad.yml"},
				Env: map[string]string{"TAG": "1", "MOTD_VERSION": "v1"}, StackName: "st"})
			Expect(err).To(HaveOccurred())
			for _, w := range want {
				Expect(err.Error()).To(ContainSubstring(w))
			}
		},
		Entry("a wrong type", "version: \"3.8\"\nservices:\n  app:\n    deploy:\n      replicas: many\n",
			[]string{"compose.bad.yml", "services.app.deploy.replicas"}),
		Entry("an unknown key", "version: \"3.8\"\nservices:\n  app:\n    colour: red\n",
			[]string{"compose.bad.yml", "colour"}),
		Entry("a required variable", "version: \"3.8\"\nservices:\n  app:\n    image: ${MISSING:?set MISSING}\n",
			[]string{"compose.bad.yml", "MISSING"}),
		Entry("broken YAML", "services: [\n", []string{"compose.bad.yml", "yaml"}),
		Entry("an empty file", "", []string{"compose.bad.yml"}),
	)

	Context("when a compose file names an env_file", func() {
		It("refuses one outside the checkout before reading it, and reads one inside", func() {
			host := GinkgoT().TempDir()
			Expect(os.WriteFile(filepath.Join(host, "secret.env"), []byte("HOST SECRET LINE\n"), 0o600)).To(Succeed())
			dir := GinkgoT().TempDir()
			write(dir, "app.env", "GREETING=hello\n")
			for _, outside := range []string{filepath.Join(host, "secret.env"), "${HOSTDIR}/secret.env", "../" + filepath.Base(host) + "/secret.env"} {
				write(dir, "compose.yml", "version: \"3.8\"\nservices:\n  app:\n    image: app:1\n    env_file: [app.env, \""+outside+"\"]\n")
				_, err := Load(LoadOptions{WorkingDir: dir, StackName: "s", Env: map[string]string{"HOSTDIR": host}})
				Expect(err).To(MatchError(`compose.yml: services.app.env_file "` + outside + `" is outside the recipe checkout (valid: a file of the recipe)`))
			}
			write(dir, "compose.yml", "version: \"3.8\"\nservices:\n  app:\n    image: app:1\n    env_file: app.env\n")
			st, err := Load(LoadOptions{WorkingDir: dir, StackName: "s"})
			Expect(err).NotTo(HaveOccurred())
			Expect(*st.Config.Services[0].Environment["GREETING"]).To(Equal("hello"))
		})
	})

	It("refuses an empty stack name", func() {
		_, err := Load(LoadOptions{WorkingDir: GinkgoT().TempDir()})
		Expect(err).To(MatchError(ContainSubstring("stack name")))
	})
})
