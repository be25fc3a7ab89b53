package abra_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/abra"
)

var _ = DescribeTable("StackName follows abra: dots become underscores, cut to 45 characters",
	func(domain, stack string) { Expect(abra.StackName(domain)).To(Equal(stack)) },
	Entry("a domain", "git.example.org", "git_example_org"),
	Entry("dashes stay", "my-wiki.coop.example", "my-wiki_coop_example"),
	Entry("a long domain", "a-very-very-long-subdomain.of-a-rather-long.domain.example.org", "a-very-very-long-subdomain_of-a-rather-long_d"),
)

var _ = DescribeTable("Name makes a resource name of a domain",
	func(domain, name string, ok bool) {
		n, err := abra.Name(domain)
		if !ok {
			Expect(err).To(MatchError(ContainSubstring("does not make a resource name")))
			return
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(name))
	},
	Entry("a domain", "Git.Example.org", "git-example-org", true),
	Entry("an underscore", "my_app.example.org", "", false),
	Entry("too long", strings.Repeat("a", 60)+".example.org", "", false),
)

var _ = Describe("ReadDir", func() {
	write := func(dir, name, text string) {
		Expect(os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600)).To(Succeed())
	}

	It("maps each env file and lists those it cannot, quoting no value", func() {
		dir := GinkgoT().TempDir()
		write(dir, "git.example.org.env", "RECIPE=gitea:3.5.3+1.24.2\nDOMAIN=git.example.org\nSECRET_DB_PASSWORD_VERSION=v1 # length=32\n")
		write(dir, "blog.example.org.env", "TYPE=wordpress\nSTACK_NAME=blog\nDOMAIN=blog.example.org\n")
		write(dir, "nope.example.org.env", "DOMAIN=hunter2.example.org\n")
		write(dir, "bad.example.org.env", "RECIPE=Not/A/Recipe\n")
		write(dir, "notes.txt", "RECIPE=ignored\n")
		Expect(os.Mkdir(filepath.Join(dir, "sub.env"), 0o755)).To(Succeed())

		apps, problems, err := abra.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(apps).To(HaveLen(2))
		blog, git := apps[0], apps[1]
		Expect(git).To(Equal(abra.App{File: filepath.Join(dir, "git.example.org.env"), Domain: "git.example.org", Name: "git-example-org",
			Stack: "git_example_org", Recipe: "gitea", Pinned: "3.5.3+1.24.2",
			Env: map[string]string{"DOMAIN": "git.example.org", "SECRET_DB_PASSWORD_VERSION": "v1"}}))
		Expect(blog.Recipe).To(Equal("wordpress"))
		Expect(blog.Pinned).To(BeEmpty())
		Expect(blog.Stack).To(Equal("blog"), "STACK_NAME in the file wins, as in abra")
		Expect(blog.Env).To(Equal(map[string]string{"DOMAIN": "blog.example.org"}))

		Expect(problems).To(HaveLen(2))
		Expect(problems[0].String()).To(Equal(filepath.Join(dir, "bad.example.org.env") +
			": RECIPE is not a recipe name (valid: lower-case letters, digits and '-', e.g. RECIPE=gitea:3.5.3+1.24.2)"))
		Expect(problems[1].String()).To(HavePrefix(filepath.Join(dir, "nope.example.org.env") + ": no RECIPE= or TYPE="))
		Expect(problems[1].String()).NotTo(ContainSubstring("hunter2"))
		Expect(abra.Recipes(apps)).To(Equal([]string{"gitea", "wordpress"}))
	})

	It("fails for a directory it cannot read", func() {
		_, _, err := abra.ReadDir(filepath.Join(GinkgoT().TempDir(), "missing"))
		Expect(err).To(MatchError(ContainSubstring("read abra env directory")))
	})
})

var _ = Describe("Version", func() {
	app := abra.App{Stack: "git_example_org", Recipe: "gitea", Pinned: "3.5.3+1.24.2"}
	newest := func(string) (string, error) { return "3.6.0+1.25.0", nil }

	It("takes the running stack's label first, then the pin, then the newest tag", func() {
		v, from, err := abra.Version(app, map[string]string{"git_example_org": "3.5.4+1.24.3"}, newest)
		Expect([]string{v, from}).To(Equal([]string{"3.5.4+1.24.3", abra.FromStack}))
		Expect(err).NotTo(HaveOccurred())
		v, from, _ = abra.Version(app, nil, newest)
		Expect([]string{v, from}).To(Equal([]string{"3.5.3+1.24.2", abra.FromPin}))
		unpinned := app
		unpinned.Pinned = ""
		v, from, _ = abra.Version(unpinned, map[string]string{"other": "1.0.0+1"}, newest)
		Expect([]string{v, from}).To(Equal([]string{"3.6.0+1.25.0", abra.FromNewest}))
		_, _, err = abra.Version(unpinned, nil, func(string) (string, error) { return "", errors.New("offline") })
		Expect(err).To(MatchError(ContainSubstring("no version: stack git_example_org does not run")))
	})
})

var _ = Describe("resources", func() {
	It("builds a WarmCanonical and a RecipeTest that validate, the source from the template", func() {
		src, err := abra.ParseSource(abra.DefaultSource)
		Expect(err).NotTo(HaveOccurred())
		rt, err := abra.RecipeTest("gitea", src)
		Expect(err).NotTo(HaveOccurred())
		Expect(rt.Spec.Source.Git).To(Equal("https://git.coopcloud.tech/coop-cloud/gitea.git"))
		wc := abra.WarmCanonical(abra.App{Name: "git-example-org", Stack: "git_example_org", Recipe: "gitea",
			Env: map[string]string{"DOMAIN": "git.example.org"}}, "3.5.3+1.24.2")
		Expect(wc.Spec).To(Equal(v1.WarmCanonicalSpec{RecipeTest: "gitea", Version: "3.5.3+1.24.2", Stack: "git_example_org",
			Env: v1.Env{"DOMAIN": "git.example.org"}}))
		Expect(abra.Check(abra.Resource{Object: rt})).To(Succeed())
		Expect(abra.Check(abra.Resource{Object: wc})).To(Succeed())
		wc.Spec.Version = "not a version"
		Expect(abra.Check(abra.Resource{Object: wc})).To(MatchError(ContainSubstring("spec.version")))
	})

	It("refuses a template that does not parse or names another field", func() {
		_, err := abra.ParseSource("{{ .Recipe ")
		Expect(err).To(MatchError(ContainSubstring("parse recipe source template")))
		src, err := abra.ParseSource("{{ .Nope }}")
		Expect(err).NotTo(HaveOccurred())
		_, err = abra.RecipeTest("gitea", src)
		Expect(err).To(MatchError(ContainSubstring("render recipe source template for gitea")))
	})
})
