package recipe_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("ReadContents", func() {
	var dir string

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		writeTree(dir, map[string]string{
			".env.sample": "TYPE=sample\nDOMAIN=sample.example.com\n#EXTRA=1\nSECRET_DB_PASSWORD_VERSION=v1 # length=24\n" +
				"SECRET_SMTP_VERSION=v1 # generate=false\nCOMPOSE_FILE=\"compose.yml:compose.worker.yml\"\n",
			"abra.sh": "#!/bin/bash\nexport MOTD_VERSION=v2\nexport QUOTED=\"a b\"\nexport COMPUTED=$(date)\n" +
				"export TICKS=`date`\nexport DOMAIN=from-abra-sh\n\nfn() {\n  export INSIDE=1\n}\n",
			"compose.yml":                composeV1,
			"compose.worker.yml":         composeWorker,
			"compose.extra.yml":          composeWorker,
			"release/1.0.0+1.0":          "First release.\n",
			"release/2.0.0+2.0":          "Breaking: the data layout changed.\n",
			"release/next":               "unreleased\n",
			"README.md":                  "# sample\n",
			"tests/custom/test_smoke.py": "def test(): pass\n",
		})
	})

	It("reads compose files, env, secrets and the release note of the version", func() {
		c, err := recipe.ReadContents(dir, nil, "1.0.0+1.0")
		Expect(err).NotTo(HaveOccurred())
		Expect(c.ComposeFiles).To(Equal([]string{"compose.yml", "compose.worker.yml"}))
		Expect(c.Env).To(Equal(map[string]string{
			"TYPE": "sample", "DOMAIN": "from-abra-sh", "SECRET_DB_PASSWORD_VERSION": "v1",
			"SECRET_SMTP_VERSION": "v1", "COMPOSE_FILE": "compose.yml:compose.worker.yml",
			"MOTD_VERSION": "v2", "QUOTED": "a b",
		}), "abra.sh: simple top-level exports override .env.sample; computed and function-local ones are not read")
		Expect(c.Secrets).To(Equal(map[string]recipe.SecretSpec{
			"db_password": {EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 24, Generate: true},
			"smtp":        {EnvVar: "SECRET_SMTP_VERSION", Generate: false},
		}))
		Expect(c.ReleaseNote).To(Equal("First release.\n"))
		Expect(c.ManualMigration).To(BeFalse())
	})

	Context("when compose files are given", func() {
		It("uses them instead of COMPOSE_FILE", func() {
			c, err := recipe.ReadContents(dir, []string{"compose.yml", "compose.extra.yml"}, "")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.ComposeFiles).To(Equal([]string{"compose.yml", "compose.extra.yml"}))
			Expect(c.ReleaseNote).To(BeEmpty())
		})

		It("rejects a file that is not in the recipe, naming where the list came from", func() {
			_, err := recipe.ReadContents(dir, []string{"compose.yml", "compose.lfs.yml"}, "")
			Expect(err).To(MatchError(ContainSubstring(`compose file "compose.lfs.yml" from the given compose files`)))
			_, err = recipe.ReadContents(dir, []string{"../compose.yml"}, "")
			Expect(err).To(MatchError(ContainSubstring("must be a relative path inside the recipe")))
		})
	})

	Context("when neither the caller nor .env.sample name compose files", func() {
		It("uses compose.yml", func() {
			writeTree(dir, map[string]string{".env.sample": "TYPE=sample\n"})
			c, err := recipe.ReadContents(dir, nil, "")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.ComposeFiles).To(Equal([]string{"compose.yml"}))
		})
	})

	Context("when COMPOSE_FILE names a missing overlay", func() {
		It("says so", func() {
			writeTree(dir, map[string]string{".env.sample": "COMPOSE_FILE=compose.yml:compose.gone.yml\n"})
			_, err := recipe.ReadContents(dir, nil, "")
			Expect(err).To(MatchError(ContainSubstring(`compose file "compose.gone.yml" from COMPOSE_FILE of .env.sample`)))
		})
	})

	Context("when .env.sample is malformed", func() {
		It("names the file and line", func() {
			writeTree(dir, map[string]string{".env.sample": "A=1\nB=\"open\n"})
			_, err := recipe.ReadContents(dir, nil, "")
			Expect(err).To(MatchError(ContainSubstring(".env.sample:2:")))
		})
	})

	It("flags a release note that asks for a manual migration", func() {
		c, err := recipe.ReadContents(dir, nil, "2.0.0+2.0")
		Expect(err).NotTo(HaveOccurred())
		Expect(c.ReleaseNote).To(ContainSubstring("Breaking"))
		Expect(c.ManualMigration).To(BeTrue())
	})

	DescribeTable("manual migration phrases in release notes",
		func(note string, want bool) {
			writeTree(dir, map[string]string{"release/9.0.0+9": note})
			c, err := recipe.ReadContents(dir, nil, "9.0.0+9")
			Expect(err).NotTo(HaveOccurred())
			Expect(c.ManualMigration).To(Equal(want))
		},
		Entry("manual migration", "A MANUAL MIGRATION is needed", true),
		Entry("migrate manually", "You must migrate manually, see docs", true),
		Entry("manual steps", "Follow the manual steps below", true),
		Entry("manual upgrade across lines", "This needs a manual\nupgrade", true),
		Entry("breaking change", "BREAKING CHANGE: new volume", true),
		Entry("plain note", "Bump upstream to 1.24.2. Migrations run automatically.", false),
		Entry("manually unrelated", "Docs were manually proofread", false),
	)
})
