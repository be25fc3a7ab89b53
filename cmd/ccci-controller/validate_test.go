package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// repoRoot is two directories up from this package.
const repoRoot = "../.."

// cli runs the command in-process as the binary would.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func invalidFixtureEntries() []TableEntry {
	files, err := filepath.Glob(filepath.Join(repoRoot, "api/v1/testdata/invalid/*.yaml"))
	if err != nil {
		panic(err)
	}
	var entries []TableEntry
	for _, f := range files {
		entries = append(entries, Entry(filepath.Base(f), f))
	}
	return entries
}

var _ = Describe("validate", func() {
	Context("with the committed samples", func() {
		It("exits 0 and says what it checked", func() {
			code, stdout, stderr := cli("validate", filepath.Join(repoRoot, "config/samples"))
			Expect(stderr).To(BeEmpty())
			Expect(code).To(Equal(0))
			Expect(stdout).To(MatchRegexp(`config/samples: [1-9]\d* RecipeTest and [1-9]\d* WarmCanonical objects are valid`))
		})
	})

	Context("with DESIGN.md's examples", func() {
		It("exits 0", func() {
			code, _, stderr := cli("validate", filepath.Join(repoRoot, "api/v1/testdata/valid"))
			Expect(stderr).To(BeEmpty())
			Expect(code).To(Equal(0))
		})
	})

	DescribeTable("exits 2 with each invalid fixture's exact messages on stderr, one per line",
		func(file string) {
			want, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".err")
			Expect(err).NotTo(HaveOccurred())
			code, stdout, stderr := cli("validate", file)
			Expect(code).To(Equal(2))
			Expect(stdout).To(BeEmpty())
			// The .err files name the fixture relative to api/v1.
			Expect(stderr).To(Equal(strings.ReplaceAll(string(want), "testdata/invalid/", filepath.Join(repoRoot, "api/v1/testdata/invalid")+"/")))
		},
		invalidFixtureEntries(),
	)

	Context("without PATH", func() {
		It("checks --resources, which defaults from CCCI_RESOURCES", func() {
			dir := GinkgoT().TempDir()
			Expect(os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("kind: Nope\n"), 0o644)).To(Succeed())
			GinkgoT().Setenv("CCCI_RESOURCES", dir)
			code, _, stderr := cli("validate")
			Expect(code).To(Equal(2))
			Expect(stderr).To(Equal(filepath.Join(dir, "bad.yaml") + `:1: document 1: kind: "Nope" is not a known kind (valid: RecipeTest, WarmCanonical)` + "\n"))

			By("letting the flag win over the environment")
			code, _, _ = cli("--resources", filepath.Join(repoRoot, "config/samples"), "validate")
			Expect(code).To(Equal(0))
		})
	})

	Context("with templates that explode or do not parse", func() {
		It("exits 2 naming each env value, after rendering it with placeholder data", func() {
			dir := GinkgoT().TempDir()
			file := filepath.Join(dir, "bomb.yaml")
			Expect(os.WriteFile(file, []byte(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata: {name: bomb}
spec:
  source: {git: https://example.org/bomb.git}
  requires:
    - {name: sso, recipe: keycloak, source: {git: https://example.org/kc.git}, version: 1.0.0+1, env: {X: "{{ .Stak }}"}}
  env:
    A: "{{range 1000000}}{{range 1000000}}{{range 1000000}}{{end}}{{end}}{{end}}"
    B: "{{$x := .Stack}}{{range 20}}{{$x = print $x $x}}{{end}}{{$x}}"
    C: "{{ .Stack "
    D: "{{ .Requires.sso.Env.DOMAIN }}.{{ .Stack }}"
`), 0o644)).To(Succeed())
			code, stdout, stderr := cli("validate", file)
			Expect(code).To(Equal(2))
			Expect(stdout).To(BeEmpty())
			Expect(stderr).To(Equal(file + `:1: RecipeTest "bomb": spec.env.A: template loops more than 1000 times (valid: ranges that repeat at most 1000 times in all)
` + file + `:1: RecipeTest "bomb": spec.env.B: template the arguments of print are over 65536 bytes (valid: a value of at most 64 KiB)
` + file + `:1: RecipeTest "bomb": spec.env.C: parse template "{{ .Stack ": template: C:1: unclosed action (valid: a Go text/template such as {{ .Stack }}.example.org)
` + file + `:1: RecipeTest "bomb": spec.requires[0].env.X: template "{{ .Stak }}" refers to unknown key "Stak" (valid: Recipe, Requires, RunID, Stack, Version)
`))
		})
	})

	Context("when the paths hold no resources", func() {
		It("exits 2 rather than passing silently", func() {
			code, _, stderr := cli("validate", GinkgoT().TempDir())
			Expect(code).To(Equal(2))
			Expect(stderr).To(ContainSubstring("no resources in"))
		})
	})
})

var _ = Describe("the root command", func() {
	It("rejects an unknown flag with exit 2 and a pointer to --help", func() {
		code, _, stderr := cli("--bogus")
		Expect(code).To(Equal(2))
		Expect(stderr).To(Equal("ccci-controller: unknown flag: --bogus\nRun 'ccci-controller --help' for usage.\n"))
	})

	It("rejects an unknown log format", func() {
		code, _, stderr := cli("--log-format", "xml", "version")
		Expect(code).To(Equal(2))
		Expect(stderr).To(HavePrefix(`ccci-controller: invalid --log-format "xml" (valid: text, json)`))
	})

	It("logs V(1) detail as JSON with -v --log-format json", func() {
		code, _, stderr := cli("-v", "--log-format", "json", "validate", filepath.Join(repoRoot, "config/samples"))
		Expect(code).To(Equal(0))
		Expect(stderr).To(ContainSubstring(`"msg":"Valid object"`))
		Expect(stderr).To(ContainSubstring(`"level":"V1"`))
	})

	It("prints help with examples", func() {
		code, stdout, _ := cli("validate", "--help")
		Expect(code).To(Equal(0))
		Expect(stdout).To(ContainSubstring("Examples:"))
		Expect(stdout).To(ContainSubstring("--resources"))
	})
})

var _ = Describe("version", func() {
	It("prints the version, commit and Go version", func() {
		code, stdout, _ := cli("version")
		Expect(code).To(Equal(0))
		Expect(stdout).To(MatchRegexp(`^ccci-controller \S+\ncommit: \S+.*\ngo: go1\.\d+`))
	})
})
