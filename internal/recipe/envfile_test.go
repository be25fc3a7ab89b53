package recipe_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("EnvFile", func() {
	parse := func(src string) *recipe.EnvFile {
		f, err := recipe.ParseEnvFile(".env.sample", []byte(src))
		Expect(err).NotTo(HaveOccurred())
		return f
	}

	DescribeTable("values as abra reads them",
		func(src, key, want string) {
			Expect(parse(src).Env).To(HaveKeyWithValue(key, want))
		},
		Entry("bare", "DOMAIN=gitea.example.com\n", "DOMAIN", "gitea.example.com"),
		Entry("export prefix", "export DOMAIN=a.example\n", "DOMAIN", "a.example"),
		Entry("spaces around", "  DOMAIN = a.example  \n", "DOMAIN", "a.example"),
		Entry("double quotes", `COMPOSE_FILE="compose.yml:compose.lfs.yml"`, "COMPOSE_FILE", "compose.yml:compose.lfs.yml"),
		Entry("single quotes are literal", `PW='a $b # c'`, "PW", "a $b # c"),
		Entry("hash inside double quotes", `X="a # b" # comment`, "X", "a # b"),
		Entry("inline comment", "X=a # the a\n", "X", "a"),
		Entry("hash without space is data", "URL=http://h/#frag\n", "URL", "http://h/#frag"),
		Entry("empty", "X=\n", "X", ""),
		Entry("empty quotes", `X=""`, "X", ""),
		Entry("escapes in double quotes", `X="a\nb\"c\\"`, "X", "a\nb\"c\\"),
		Entry("multi-line double quotes", "X=\"line1\nline2\"\nY=1\n", "X", "line1\nline2"),
		Entry("expansion of earlier variables", "A=x\nCOMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.${A}.yml\"\n", "COMPOSE_FILE", "compose.yml:compose.x.yml"),
		Entry("unknown references are kept for the compose loader", "N=${STACK_NAME}_db_$X\n", "N", "${STACK_NAME}_db_$X"),
		Entry("escaped dollar", `X="\$HOME"`, "X", "$HOME"),
		Entry("CRLF line ends", "A=1\r\nB=2\r\n", "B", "2"),
		Entry("later definition wins", "A=1\nA=2\n", "A", "2"),
	)

	It("skips comments, blank lines and commented-out settings", func() {
		f := parse("# a comment\n\n## Section\n#SECRET_OFF_VERSION=v1 # length=10\n   # indented comment\nTYPE=gitea\n")
		Expect(f.Env).To(Equal(map[string]string{"TYPE": "gitea"}))
		Expect(f.Keys).To(Equal([]string{"TYPE"}))
	})

	It("reads modifiers from the inline comment", func() {
		f := parse("SECRET_DB_PASSWORD_VERSION=v1 # length=24\nSECRET_API_KEY_VERSION=\"v2\" # generate=false\nPLAIN=x # just prose\n")
		Expect(f.Modifiers).To(Equal(map[string]map[string]string{
			"SECRET_DB_PASSWORD_VERSION": {"length": "24"},
			"SECRET_API_KEY_VERSION":     {"generate": "false"},
		}))
	})

	Context("when a line is malformed", func() {
		DescribeTable("names the file and the line",
			func(src, want string) {
				_, err := recipe.ParseEnvFile(".env.sample", []byte(src))
				Expect(err).To(MatchError(ContainSubstring(want)))
			},
			Entry("no equals sign", "A=1\nJUST_A_WORD\n", `.env.sample:2: not a KEY=VALUE line`),
			Entry("bad name", "1X=2\n", `.env.sample:1: the key is not a valid variable name (valid: letters, digits and _, not starting with a digit)`),
			Entry("unterminated double quote", "A=1\n\nB=\"open\n", ".env.sample:3: B: unterminated double quote"),
			Entry("unterminated single quote", "B='open\n", ".env.sample:1: B: unterminated single quote"),
		)
	})

	Describe("Secrets", func() {
		It("keys secrets by compose secret key with their modifiers", func() {
			f := parse("SECRET_DB_PASSWORD_VERSION=v1 # length=24\nSECRET_SMTP_PASSWORD_VERSION=v1 # generate=false\nSECRET_JWT_VERSION=v3\nSECRET_X=1\nMY_SECRET_VERSION=1\n")
			secrets, err := f.Secrets(".env.sample")
			Expect(err).NotTo(HaveOccurred())
			Expect(secrets).To(Equal(map[string]recipe.SecretSpec{
				"db_password":   {EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 24, Generate: true},
				"smtp_password": {EnvVar: "SECRET_SMTP_PASSWORD_VERSION", Generate: false},
				"jwt":           {EnvVar: "SECRET_JWT_VERSION", Generate: true},
			}))
		})

		DescribeTable("rejects bad modifiers naming the variable",
			func(line, want string) {
				_, err := parse(line).Secrets(".env.sample")
				Expect(err).To(MatchError(want))
			},
			Entry("length not a number", "SECRET_A_VERSION=v1 # length=long", `.env.sample: SECRET_A_VERSION: modifier length="long" is not a positive number`),
			Entry("length zero", "SECRET_A_VERSION=v1 # length=0", `.env.sample: SECRET_A_VERSION: modifier length="0" is not a positive number`),
			Entry("generate not a bool", "SECRET_A_VERSION=v1 # generate=maybe", `.env.sample: SECRET_A_VERSION: modifier generate="maybe" is not true or false`),
			Entry("an unknown charset", "SECRET_A_VERSION=v1 # length=8 charset=special", `.env.sample: SECRET_A_VERSION: modifier charset="special" is not supported (valid: alnum, hex)`),
		)

		It("reads charset= as llamenos writes it", func() {
			secrets, err := parse("SECRET_HMAC_SECRET_VERSION=v1       # length=64 charset=hex\nSECRET_DB_VERSION=v1 # length=32 charset=alnum\n").Secrets(".env.sample")
			Expect(err).NotTo(HaveOccurred())
			Expect(secrets).To(Equal(map[string]recipe.SecretSpec{
				"hmac_secret": {EnvVar: "SECRET_HMAC_SECRET_VERSION", Length: 64, Charset: "hex", Generate: true},
				"db":          {EnvVar: "SECRET_DB_VERSION", Length: 32, Charset: "alnum", Generate: true},
			}))
		})
	})
})
