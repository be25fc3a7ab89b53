package resources_test

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/resources"
)

func messages(errs []error) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

var (
	rtGitea   = v1.Key{Kind: v1.KindRecipeTest, Name: "gitea"}
	wcGitea   = v1.Key{Kind: v1.KindWarmCanonical, Name: "gitea"}
	wcForgejo = v1.Key{Kind: v1.KindWarmCanonical, Name: "forgejo"}
)

var _ = Describe("Load", func() {
	Context("with a directory tree", func() {
		It("loads *.yaml and *.yml recursively and skips hidden directories, editor files and other files", func() {
			set, errs := resources.Load("testdata/tree")
			Expect(errs).To(BeEmpty())
			Expect(set.Keys()).To(Equal([]v1.Key{rtGitea, wcForgejo, wcGitea}))
			origin, ok := set.Origin(wcForgejo)
			Expect(ok).To(BeTrue())
			Expect(origin).To(Equal(resources.Origin{File: "testdata/tree/sub/warm.yml", Line: 5}))
			rt, ok := set.RecipeTest("gitea")
			Expect(ok).To(BeTrue())
			Expect(rt.Spec.Source.Git).To(Equal("https://example.org/gitea.git"))
			Expect(set.WarmCanonicals()).To(HaveLen(2))
			Expect(set.RecipeTests()).To(HaveLen(1))
		})
	})

	Context("with files given one by one", func() {
		It("loads them whatever their extension", func() {
			set, errs := resources.Load("testdata/tree/gitea.yaml", "testdata/tree/sub/warm.yml")
			Expect(errs).To(BeEmpty())
			Expect(set.Len()).To(Equal(3))
		})
	})

	Context("when the same object is in two files", func() {
		It("names both files and keeps neither copy", func() {
			set, errs := resources.Load("testdata/dup")
			Expect(messages(errs)).To(Equal([]string{
				`testdata/dup/two.yaml:5: RecipeTest "gitea": metadata.name: also defined in testdata/dup/one.yaml:1 (valid: each RecipeTest name once across all files)`,
			}))
			_, ok := set.Get(rtGitea)
			Expect(ok).To(BeFalse())
			Expect(set.InvalidKeys()).To(Equal([]v1.Key{rtGitea}))
			Expect(set.Keys()).To(Equal([]v1.Key{{Kind: v1.KindWarmCanonical, Name: "other"}}))
		})
	})

	Context("when some files are bad", func() {
		It("loads the good ones and reports every problem", func() {
			set, errs := resources.Load("testdata/mixed")
			Expect(messages(errs)).To(Equal([]string{
				`testdata/mixed/b-bad.yaml:6: WarmCanonical "bad": spec.mode: "asleep" is not a mode (valid: live, data)`,
				`testdata/mixed/c-garbage.yaml:1: binary data at byte 0 (valid: a UTF-8 YAML text file)`,
			}))
			Expect(set.Keys()).To(Equal([]v1.Key{{Kind: v1.KindRecipeTest, Name: "good-too"}, {Kind: v1.KindWarmCanonical, Name: "good"}}))
			By("keeping the invalid object's key and errors, so it can be marked Stalled")
			bad := v1.Key{Kind: v1.KindWarmCanonical, Name: "bad"}
			Expect(set.InvalidKeys()).To(Equal([]v1.Key{bad}))
			Expect(messages(set.InvalidErrors(bad))).To(ConsistOf(ContainSubstring("spec.mode")))
		})
	})

	Context("when a path does not exist", func() {
		It("says so and loads the other paths", func() {
			set, errs := resources.Load("testdata/nope", "testdata/tree/gitea.yaml")
			Expect(messages(errs)).To(Equal([]string{"testdata/nope: cannot read: no such file or directory"}))
			Expect(set.Len()).To(Equal(1))
		})
	})

	Context("when a file is over 1 MiB", func() {
		It("refuses it before reading, with a clear error", func() {
			dir := GinkgoT().TempDir()
			big := filepath.Join(dir, "big.yaml")
			Expect(os.WriteFile(big, []byte("# "+strings.Repeat("x", 2<<20)), 0o644)).To(Succeed())
			_, errs := resources.Load(dir)
			Expect(messages(errs)).To(Equal([]string{big + ": file is 2097154 bytes, over the limit of 1048576 bytes (1 MiB) (valid: split it into several files)"}))
		})
	})
})

var _ = Describe("IsResourceFile", func() {
	DescribeTable("tells resource files from editor and other files",
		func(name string, want bool) { Expect(resources.IsResourceFile(name)).To(Equal(want)) },
		Entry("yaml", "dir/gitea.yaml", true),
		Entry("yml", "gitea.yml", true),
		Entry("vim swap", ".gitea.yaml.swp", false),
		Entry("hidden", ".gitea.yaml", false),
		Entry("emacs lock", ".#gitea.yaml", false),
		Entry("emacs autosave", "#gitea.yaml#", false),
		Entry("backup", "gitea.yaml~", false),
		Entry("other extension", "README.md", false),
	)
})

var _ = Describe("Digests", func() {
	const head = "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: "

	It("gives one digest per object, even an invalid one", func() {
		d := resources.Digests("f.yaml", []byte(head+"gitea\nspec: {mode: asleep}\n---\n"+head+"forgejo\n---\nkind: WarmCanonical\n"))
		Expect(d).To(HaveLen(2))
		Expect(d).To(HaveKey(wcGitea))
		Expect(d).To(HaveKey(wcForgejo))
	})

	It("changes only the digest of the object that changed", func() {
		a := resources.Digests("f.yaml", []byte(head+"gitea\n---\n"+head+"forgejo\n"))
		b := resources.Digests("f.yaml", []byte(head+"gitea\n---\n"+head+"forgejo\nspec: {suspend: true}\n"))
		Expect(b[wcGitea]).To(Equal(a[wcGitea]))
		Expect(b[wcForgejo]).NotTo(Equal(a[wcForgejo]))
	})

	It("defines nothing for a binary file", func() {
		Expect(resources.Digests("f.yaml", []byte{0, 1, 2})).To(BeEmpty())
	})
})

var _ = Describe("Load with dependsOn", func() {
	It("rejects a missing dependency and a cycle, naming every object in it, and keeps the rest", func() {
		dir := GinkgoT().TempDir()
		doc := func(name, deps string) string {
			return "apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: " + name + "\nspec:\n  dependsOn: " + deps + "\n"
		}
		Expect(os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(doc("app", "[proxy, sso]")), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(doc("proxy", "[edge]")), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(doc("edge", "[proxy]")), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "d.yaml"), []byte(doc("web", "[app]")), 0o644)).To(Succeed())
		set, errs := resources.Load(dir)
		Expect(messages(errs)).To(ConsistOf(
			ContainSubstring(`a.yaml:1: WarmCanonical "app": spec.dependsOn[1]: "sso" names no WarmCanonical (valid: one of app, edge, proxy, web)`),
			ContainSubstring(`b.yaml:1: WarmCanonical "proxy": spec.dependsOn: dependency cycle proxy → edge → proxy`),
			ContainSubstring(`c.yaml:1: WarmCanonical "edge": spec.dependsOn: dependency cycle proxy → edge → proxy`),
		))
		_, ok := set.WarmCanonical("web")
		Expect(ok).To(BeTrue(), "an app depending on an invalid one is itself valid: its reconcile says the dependency is not Ready")
		_, ok = set.WarmCanonical("edge")
		Expect(ok).To(BeFalse())
	})
})
