package controllers_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

const validWC = `apiVersion: ccci.commoninternet.net/v1
kind: WarmCanonical
metadata:
  name: app
spec:
  version: latest
`

var _ = Describe("Dir", func() {
	var (
		root string
		dir  *controllers.Dir
	)
	BeforeEach(func() {
		root = GinkgoT().TempDir()
		dir = &controllers.Dir{Root: root}
	})
	write := func(name, content string, mtime time.Time) {
		p := filepath.Join(root, name)
		Expect(os.WriteFile(p, []byte(content), 0o644)).To(Succeed())
		Expect(os.Chtimes(p, mtime, mtime)).To(Succeed())
	}

	It("returns valid objects, nil for unknown ones, and the loader's errors for invalid ones", func() {
		t0 := time.Now().Add(-time.Hour)
		write("app.yaml", validWC, t0)
		obj, err := dir.Get(v1.KindWarmCanonical, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(obj.GetKey()).To(Equal(v1.Key{Kind: v1.KindWarmCanonical, Name: "app"}))
		Expect(dir.Get(v1.KindRecipeTest, "app")).To(BeNil())

		By("a process that never saw the object valid seeing its broken file at once")
		write("app.yaml", validWC+"  mode: warm\n", t0.Add(time.Second))
		fresh := &controllers.Dir{Root: root}
		_, err = fresh.Get(v1.KindWarmCanonical, "app")
		var inv *controllers.InvalidError
		Expect(errors.As(err, &inv)).To(BeTrue())
		Expect(err.Error()).To(And(ContainSubstring("app.yaml:7"), ContainSubstring(`WarmCanonical "app": spec.mode`)))
		Expect(fresh.List(v1.KindWarmCanonical)).To(Equal([]string{"app"}))
	})
	It("reports an object defined in two files as invalid", func() {
		write("a.yaml", validWC, time.Now())
		write("b.yaml", validWC, time.Now())
		_, err := dir.Get(v1.KindWarmCanonical, "app")
		Expect(err).To(MatchError(ContainSubstring("a.yaml")))
	})
})

var _ = Describe("Dir keeping the last good spec", func() {
	var (
		root string
		now  time.Time
		dir  *controllers.Dir
		path string
	)
	const suspended = validWC + "  suspend: true\n"
	BeforeEach(func() {
		root = GinkgoT().TempDir()
		now = time.Now()
		dir = &controllers.Dir{Root: root, Settle: 30 * time.Second, Now: func() time.Time { return now }}
		path = filepath.Join(root, "app.yaml")
		Expect(os.WriteFile(path, []byte(suspended), 0o644)).To(Succeed())
		Expect(dir.Get(v1.KindWarmCanonical, "app")).NotTo(BeNil())
	})
	// replace writes path anew with a later modification time, so the Dir reads it again.
	replace := func(content string) {
		GinkgoHelper()
		now = now.Add(time.Second)
		Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())
		Expect(os.Chtimes(path, now, now)).To(Succeed())
	}
	expectKept := func(reason string, message ...string) {
		GinkgoHelper()
		obj, err := dir.Get(v1.KindWarmCanonical, "app")
		Expect(err).NotTo(HaveOccurred())
		Expect(obj).NotTo(BeNil())
		Expect(obj.(*v1.WarmCanonical).Spec.Suspend).To(BeTrue(), "the last good spec, not a default one")
		Expect(dir.List(v1.KindWarmCanonical)).To(Equal([]string{"app"}))
		p := controllers.Problem(dir, v1.KindWarmCanonical, "app")
		Expect(p).NotTo(BeNil())
		Expect(p.Reason).To(Equal(reason))
		Expect(p.File).To(Equal(path))
		for _, m := range message {
			Expect(p.Message()).To(ContainSubstring(m))
		}
	}
	expectGone := func() {
		GinkgoHelper()
		Expect(dir.Get(v1.KindWarmCanonical, "app")).To(BeNil())
		Expect(dir.List(v1.KindWarmCanonical)).NotTo(ContainElement("app"))
		Expect(controllers.Problem(dir, v1.KindWarmCanonical, "app")).To(BeNil())
	}

	It("keeps it through a half-written file and drops the problem once the file is whole", func() {
		replace(validWC[:40])
		expectKept(v1.ReasonFileInvalid, path, "keeping the last good spec")
		replace(suspended)
		Expect(controllers.Problem(dir, v1.KindWarmCanonical, "app")).To(BeNil())
	})

	It("keeps it through invalid YAML and an invalid field, naming file and error", func() {
		replace(validWC + "  version: [\n")
		expectKept(v1.ReasonFileInvalid, "invalid YAML")
		replace(validWC + "  mode: warm\n")
		expectKept(v1.ReasonFileInvalid, `spec.mode: "warm" is not a mode`)
	})

	It("keeps it while the file cannot be read", func() {
		Expect(os.Remove(path)).To(Succeed())
		Expect(os.Symlink(filepath.Base(path), path)).To(Succeed()) // a loop: ELOOP on open, even for root
		expectKept(v1.ReasonFileUnreadable, "cannot read: too many levels of symbolic links")
	})

	It("keeps it while the file is absent, and forgets it after the settle time", func() {
		Expect(os.Remove(path)).To(Succeed())
		expectKept(v1.ReasonFileAbsent, "file is absent", "then the object is forgotten")
		now = now.Add(29 * time.Second)
		expectKept(v1.ReasonFileAbsent)
		now = now.Add(2 * time.Second)
		expectGone()
	})

	It("takes a file back that returns within the settle time", func() {
		Expect(os.Remove(path)).To(Succeed())
		expectKept(v1.ReasonFileAbsent)
		replace(suspended)
		now = now.Add(time.Minute)
		Expect(dir.Get(v1.KindWarmCanonical, "app")).NotTo(BeNil())
		Expect(controllers.Problem(dir, v1.KindWarmCanonical, "app")).To(BeNil())
	})

	It("forgets it at once when its file is read and parsed without it", func() {
		replace(strings.Replace(validWC, "name: app", "name: other", 1))
		expectGone()
		Expect(dir.List(v1.KindWarmCanonical)).To(Equal([]string{"other"}))
	})
})
