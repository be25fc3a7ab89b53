package controllers_test

import (
	"errors"
	"os"
	"path/filepath"
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

		By("an edit breaking the file being seen at once")
		write("app.yaml", validWC+"  mode: warm\n", t0.Add(time.Second))
		_, err = dir.Get(v1.KindWarmCanonical, "app")
		var inv *controllers.InvalidError
		Expect(errors.As(err, &inv)).To(BeTrue())
		Expect(err.Error()).To(And(ContainSubstring("app.yaml:7"), ContainSubstring(`WarmCanonical "app": spec.mode`)))
		Expect(dir.List(v1.KindWarmCanonical)).To(Equal([]string{"app"}))
	})

	It("reports an object defined in two files as invalid", func() {
		write("a.yaml", validWC, time.Now())
		write("b.yaml", validWC, time.Now())
		_, err := dir.Get(v1.KindWarmCanonical, "app")
		Expect(err).To(MatchError(ContainSubstring("a.yaml")))
	})
})
