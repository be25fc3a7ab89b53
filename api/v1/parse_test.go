package v1_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// invalidFixtures returns one table entry per testdata/invalid/*.yaml; each has a sibling .err
// holding the exact messages, one per line.
func invalidFixtures() []TableEntry {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		panic(err)
	}
	var entries []TableEntry
	for _, f := range files {
		entries = append(entries, Entry(filepath.Base(f), f))
	}
	return entries
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return b
}

var _ = Describe("Parse", func() {
	DescribeTable("rejects an invalid file with the exact messages of its .err fixture",
		func(file string) {
			want := strings.TrimSpace(string(readFile(strings.TrimSuffix(file, ".yaml") + ".err")))
			_, err := v1.Parse(file, readFile(file))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(Equal(want))

			By("returning the problems as v1.Errors, each naming the file")
			var list v1.Errors
			Expect(errors.As(err, &list)).To(BeTrue())
			for _, e := range list {
				Expect(e.Error()).To(HavePrefix(file))
			}
		},
		invalidFixtures(),
	)

	Context("when a file is over 1 MiB", func() {
		It("refuses it without parsing, naming the size and the limit", func() {
			data := []byte("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\n# " + strings.Repeat("x", v1.MaxFileSize) + "\n")
			_, err := v1.Parse("big.yaml", data)
			Expect(err).To(MatchError(fmt.Sprintf("big.yaml: file is %d bytes, over the limit of 1048576 bytes (1 MiB) (valid: split it into several files)", len(data))))
		})
	})

	Context("when a file holds more than 1000 documents", func() {
		It("stops there with a clear error", func() {
			data := []byte(strings.Repeat("---\nkind: WarmCanonical\nmetadata: {name: a}\n", 1001))
			_, err := v1.Parse("many.yaml", data)
			var list v1.Errors
			Expect(errors.As(err, &list)).To(BeTrue())
			Expect(list[len(list)-1].Error()).To(Equal("many.yaml:3001: more than 1000 documents in the file (valid: split it into several files)"))
		})
	})

	Context("when a document has very many problems", func() {
		It("reports the first ones and counts the rest", func() {
			data := "apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata: {name: a}\nspec:\n  source: {git: x}\n  tiers: [" +
				strings.Repeat("{name: smoke}, ", 80) + "]\n"
			_, err := v1.Parse("f.yaml", []byte(data))
			var list v1.Errors
			Expect(errors.As(err, &list)).To(BeTrue())
			Expect(list).To(HaveLen(50))
			Expect(list[49].Error()).To(Equal(`f.yaml: RecipeTest "a": 31 more problems not shown (valid: fix the ones above first)`))
		})
	})

	Context("when a file is an alias bomb", func() {
		It("finishes quickly and with bounded memory", func() {
			data := readFile("testdata/invalid/alias-bomb.yaml")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := v1.Parse("bomb.yaml", data)
			runtime.ReadMemStats(&after)
			Expect(err).To(HaveOccurred())
			// Expanded, the bomb holds 10^9 strings; a walk that followed the aliases would
			// take gigabytes (its speed is make bench's to measure).
			Expect(after.TotalAlloc - before.TotalAlloc).To(BeNumerically("<", 16<<20))
		})
	})

	Context("when a file mixes good and bad documents", func() {
		It("returns the objects of the good documents and the errors of the bad ones", func() {
			objs, err := v1.Parse("testdata/invalid/syntax-error.yaml", readFile("testdata/invalid/syntax-error.yaml"))
			Expect(err).To(HaveOccurred())
			Expect(objs).To(HaveLen(1))
			Expect(objs[0].GetKey()).To(Equal(v1.Key{Kind: v1.KindWarmCanonical, Name: "forgejo"}))
		})
	})

	Context("with DESIGN.md's examples verbatim", func() {
		It("parses both objects with every field as written", func() {
			objs, err := v1.Parse("design-examples.yaml", readFile("testdata/valid/design-examples.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(objs).To(HaveLen(2))

			rt := objs[0].(*v1.RecipeTest)
			Expect(rt.Metadata.Name).To(Equal("gitea"))
			Expect(rt.Spec.Source).To(Equal(v1.Source{Git: "https://git.coopcloud.tech/coop-cloud/gitea.git", Branch: "main"}))
			Expect(rt.Spec.ComposeFiles).To(Equal([]string{"compose.yml", "compose.lfs.yml"}))
			Expect(rt.Spec.Env).To(HaveKeyWithValue("DOMAIN", "{{ .Stack }}.test.example.org"))
			Expect(rt.Spec.Tiers).To(HaveLen(5))
			Expect(rt.Spec.Tiers[1]).To(Equal(v1.Tier{Name: v1.TierUpgrade, From: v1.FromKnownGood}))
			Expect(rt.Spec.Tiers[4]).To(Equal(v1.Tier{
				Name:    v1.TierCustom,
				Command: []string{"pytest", "-q", "tests/gitea/custom"},
				When:    &v1.TierCondition{FileExists: "compose.lfs.yml"},
				Timeout: v1.Minutes(10),
			}))
			Expect(rt.Spec.ExpectedNA).To(BeEmpty())
			Expect(rt.Spec.Timeout).To(Equal(v1.Minutes(30)))

			wc := objs[1].(*v1.WarmCanonical)
			Expect(wc.Spec.RecipeTest).To(Equal("gitea"))
			Expect(wc.Spec.Version).To(Equal(v1.VersionLatest))
			Expect(wc.Spec.Stack).To(Equal("warm_gitea"))
			Expect(wc.Spec.Env).To(Equal(v1.Env{"DOMAIN": "gitea.ci.example.org"}))
			Expect(wc.Spec.Mode).To(Equal(v1.ModeLive))
			Expect(wc.Spec.AllowMajor).To(BeFalse())
			Expect(*wc.Spec.Rollback).To(BeTrue())
			Expect(wc.Spec.Interval).To(Equal(v1.Minutes(10)))
			Expect(wc.Spec.Timeout).To(Equal(v1.Minutes(15)))
			Expect(wc.Spec.Suspend).To(BeFalse())
		})
	})

	DescribeTable("accepts every valid fixture",
		func(file string, want int) {
			objs, err := v1.Parse(file, readFile(file))
			Expect(err).NotTo(HaveOccurred())
			Expect(objs).To(HaveLen(want))
		},
		Entry("DESIGN.md's examples", "testdata/valid/design-examples.yaml", 2),
		Entry("minimal objects", "testdata/valid/minimal.yaml", 2),
		Entry("every field, comments, anchors, quoting and a leading ---", "testdata/valid/all-fields.yaml", 3),
	)

	Context("when a document is invalid", func() {
		It("still names its object and gives a content digest, for the watcher", func() {
			docs, errs := v1.ParseDocuments("f.yaml", []byte("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: gitea\nspec:\n  mode: asleep\n"))
			Expect(errs).To(BeEmpty())
			Expect(docs).To(HaveLen(1))
			Expect(docs[0].Object).To(BeNil())
			Expect(docs[0].Key).To(Equal(v1.Key{Kind: v1.KindWarmCanonical, Name: "gitea"}))
			Expect(docs[0].Digest).To(HaveLen(64))
		})

		It("guesses the object's key even when the YAML does not parse", func() {
			docs, _ := v1.ParseDocuments("f.yaml", []byte("apiVersion: ccci.commoninternet.net/v1\nkind: RecipeTest\nmetadata:\n  name: gitea\nspec: {source: [\n"))
			Expect(docs).To(HaveLen(1))
			Expect(docs[0].Key).To(Equal(v1.Key{Kind: v1.KindRecipeTest, Name: "gitea"}))
		})
	})

	Context("when only comments or formatting change", func() {
		It("keeps the digest of a valid object", func() {
			a, _ := v1.ParseDocuments("f.yaml", []byte("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: gitea}\nspec: {mode: data}\n"))
			b, _ := v1.ParseDocuments("f.yaml", []byte("# the gitea warm app\napiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: gitea\nspec:\n  mode: data   # keep volumes\n"))
			c, _ := v1.ParseDocuments("f.yaml", []byte("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata: {name: gitea}\nspec: {mode: live}\n"))
			Expect(a[0].Digest).To(Equal(b[0].Digest))
			Expect(a[0].Digest).NotTo(Equal(c[0].Digest))
		})
	})
})
