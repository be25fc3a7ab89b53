package packaging_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/packaging"
)

var _ = Describe("SplitWords", func() {
	DescribeTable("splits like a shell",
		func(line string, want []string) {
			Expect(packaging.SplitWords(line)).To(Equal(want))
		},
		Entry("plain words", "run --listen  127.0.0.1:8089", []string{"run", "--listen", "127.0.0.1:8089"}),
		Entry("single quotes keep everything", `'a b' 'it'\''s' '$X'`, []string{"a b", "it's", "$X"}),
		Entry("double quotes keep spaces and variables", `"recipetest/$recipe" "a\"b"`, []string{"recipetest/$recipe", `a"b`}),
		Entry("an empty quoted word stays a word", `--pr ""`, []string{"--pr", ""}),
		Entry("a backslash escapes outside quotes", `a\ b`, []string{"a b"}),
	)

	It("reports an unterminated quote", func() {
		_, err := packaging.SplitWords(`trigger "recipetest/x`)
		Expect(err).To(MatchError(ContainSubstring("unterminated")))
	})
})

var _ = Describe("FindInvocations", func() {
	DescribeTable("finds calls in command position only",
		func(text string, want [][]string) {
			invs, err := packaging.FindInvocations("f", 1, text, "1")
			Expect(err).NotTo(HaveOccurred())
			var got [][]string
			for _, inv := range invs {
				got = append(got, inv.Args)
			}
			Expect(got).To(Equal(want))
		},
		Entry("a call with variables",
			`ccci-controller trigger "recipetest/$recipe" --ref "${REF:-main}"`,
			[][]string{{"trigger", "recipetest/1", "--ref", "1"}}),
		Entry("a call continued over lines",
			"ccci-controller sweep \\\n  --server http://x \\\n  --token-file t",
			[][]string{{"sweep", "--server", "http://x", "--token-file", "t"}}),
		Entry("behind a prompt, sudo with a user named like the program, and an assignment",
			"$ sudo -u ccci-controller CCCI_STATE=/s ccci-controller get wc",
			[][]string{{"get", "wc"}}),
		Entry("by path, up to a separator and a comment",
			"/usr/local/bin/ccci-controller validate && echo ok # ccci-controller run",
			[][]string{{"validate"}}),
		Entry("not as an argument of another command",
			"go build -o bin/ccci-controller ./cmd/ccci-controller\nsudo install bin/ccci-controller /usr/local/bin/ccci-controller",
			nil),
		Entry("not in a comment line", "# ccci-controller run", nil),
	)

	It("names the file and line of each call", func() {
		invs, err := packaging.FindInvocations("docs/deploy.md", 10, "echo\n\nccci-controller version", "1")
		Expect(err).NotTo(HaveOccurred())
		Expect(invs).To(ConsistOf(HaveField("Source", "docs/deploy.md:12")))
	})
})

var _ = Describe("Invocation", func() {
	It("tells its subcommand and flag names", func() {
		inv := packaging.Invocation{Args: []string{"trigger", "recipetest/x", "--ref=main", "--pr", "3", "-v"}}
		Expect(inv.Subcommand()).To(Equal("trigger"))
		Expect(inv.Flags()).To(Equal([]string{"--ref", "--pr", "-v"}))
	})
})

var _ = Describe("ExpandExecWords", func() {
	env := map[string]string{"CCCI_STATE": "/var/lib/ccci-controller", "CCCI_EXTRA_ARGS": "--sweep-interval 1h", "EMPTY": ""}
	specifiers := map[string]string{"%d": "/run/credentials/u"}

	DescribeTable("follows systemd's rules",
		func(words, want []string) {
			Expect(packaging.ExpandExecWords(words, env, specifiers)).To(Equal(want))
		},
		Entry("${VAR} stays one word", []string{"--state", "${CCCI_STATE}"}, []string{"--state", "/var/lib/ccci-controller"}),
		Entry("$VAR alone splits at spaces", []string{"$CCCI_EXTRA_ARGS"}, []string{"--sweep-interval", "1h"}),
		Entry("an empty $VAR vanishes", []string{"run", "$EMPTY"}, []string{"run"}),
		Entry("specifiers are replaced", []string{"--token-file", "%d/token"}, []string{"--token-file", "/run/credentials/u/token"}),
	)

	It("refuses a variable the environment file does not set", func() {
		_, err := packaging.ExpandExecWords([]string{"${CCCI_LISTEN}"}, env, specifiers)
		Expect(err).To(MatchError(ContainSubstring("CCCI_LISTEN")))
	})
})

var _ = Describe("ParseEnvFile", func() {
	It("reads assignments and skips comments", func() {
		Expect(packaging.ParseEnvFile("# c\nA=1\n\nB=\"x y\"\nC=\n; d\n")).To(Equal(map[string]string{"A": "1", "B": "x y", "C": ""}))
	})
})

var _ = Describe("Unit.Render", func() {
	It("writes lists as repeated lines, booleans as true/false and the environment as quoted pairs", func() {
		u := packaging.Unit{
			Description:   "d",
			After:         []string{"a.service", "b.service"},
			WantedBy:      []string{"multi-user.target"},
			Environment:   map[string]string{"HOME": "/var/lib/x"},
			ServiceConfig: map[string]any{"SupplementaryGroups": []any{"docker", "x"}, "NoNewPrivileges": true, "RestartSec": "5s"},
		}
		Expect(u.Render("Service")).To(Equal(`[Unit]
Description=d
After=a.service b.service

[Service]
Environment="HOME=/var/lib/x"
NoNewPrivileges=true
RestartSec=5s
SupplementaryGroups=docker
SupplementaryGroups=x

[Install]
WantedBy=multi-user.target
`))
	})
})

var _ = Describe("MarkdownCode", func() {
	It("returns fenced blocks with their first line and skips prose", func() {
		blocks := packaging.MarkdownCode("Run ccci-controller run.\n\n```sh\nccci-controller validate\n```\n")
		Expect(blocks).To(Equal([]packaging.CodeBlock{{Text: "ccci-controller validate", Line: 4}}))
	})
})

var _ = Describe("DroneCommands", func() {
	It("undoes Drone's $$ escape", func() {
		scripts, err := packaging.DroneCommands([]byte("kind: pipeline\nsteps:\n- name: t\n  commands:\n  - echo $${REF}\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(scripts).To(Equal(map[string][]string{"t": {"echo ${REF}"}}))
	})
})
