package corpus_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"gopkg.in/yaml.v3"

	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// stackName is the test stack name a recipe is loaded under.
func stackName(name string) string { return "corpus_" + strings.ReplaceAll(name, "-", "_") }

// appEnv is the env abra would give an app of the recipe: .env.sample, abra.sh exports and
// STACK_NAME.
func appEnv(dir, name string, files []string) (*recipe.Contents, map[string]string) {
	c, err := recipe.ReadContents(dir, files, "")
	Expect(err).NotTo(HaveOccurred())
	env := map[string]string{"STACK_NAME": stackName(name)}
	for k, v := range c.Env {
		env[k] = v
	}
	return c, env
}

// overlaySets lists the compose file sets of a recipe worth loading: what COMPOSE_FILE of its
// .env.sample says (else compose.yml), and compose.yml with each overlay on its own.
func overlaySets(dir string) [][]string {
	sets := [][]string{nil}
	overlays, err := filepath.Glob(filepath.Join(dir, "compose.*.yml"))
	Expect(err).NotTo(HaveOccurred())
	for _, o := range overlays {
		sets = append(sets, []string{"compose.yml", filepath.Base(o)})
	}
	return sets
}

// dockerStackConfig runs `docker stack config` on files in dir with exactly env as its
// environment (the CLI interpolates from its process environment).
func dockerStackConfig(dir string, files []string, env map[string]string) (string, error) {
	args := []string{"stack", "config"}
	for _, f := range files {
		args = append(args, "-c", f)
	}
	cmd := exec.Command(dockerCLI(), args...)
	cmd.Dir = dir
	cmd.Env = []string{"DOCKER_CONFIG=" + GinkgoT().TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &exec.ExitError{Stderr: stderr.Bytes()}
	}
	return stdout.String(), nil
}

// encode prints a loaded config the way `docker stack config` prints it: yaml.v3, indent 2.
func encode(st *swarm.Stack) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	Expect(enc.Encode(st.Config)).To(Succeed())
	return buf.String()
}

var _ = Describe("Loading the public recipes", func() {
	It("gives the same config as docker stack config for every recipe and overlay", func() {
		compared := 0
		for _, name := range recipeNames {
			dir := recipes[name]
			for _, set := range overlaySets(dir) {
				c, env := appEnv(dir, name, set)
				files := c.ComposeFiles
				what := name + " " + strings.Join(files, ":")
				By(what)
				want, dockerErr := dockerStackConfig(dir, files, env)
				st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, ComposeFiles: files, Env: env, StackName: stackName(name)})
				if dockerErr != nil {
					Expect(err).To(HaveOccurred(), "%s: docker stack config refuses it (%s) but we load it", what, dockerErr.(*exec.ExitError).Stderr)
					continue
				}
				Expect(err).NotTo(HaveOccurred(), "%s: docker stack config loads it", what)
				Expect(encode(st)).To(Equal(want), what)
				compared++
			}
		}
		// 11 recipes plus their 16 overlays (custom-php 2, llamenos 3, traefik 9, wordpress 2),
		// each loaded on its own over compose.yml; docker refuses none of them.
		Expect(compared).To(Equal(27))
	})

	It("finds a Docker client that has docker stack config", func() {
		out, err := exec.Command(dockerCLI(), "stack", "config", "--help").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(slices.Contains(strings.Fields(string(out)), "--skip-interpolation")).To(BeTrue())
	})
})
