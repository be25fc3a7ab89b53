package v1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

var _ = Describe("SpecHash", func() {
	It("is stable and ignores defaults written out explicitly", func() {
		a := validRecipeTest()
		b := validRecipeTest()
		b.Default()
		Expect(a.SpecHash()).To(HaveLen(64))
		Expect(a.SpecHash()).To(Equal(a.SpecHash()))
		Expect(a.SpecHash()).To(Equal(b.SpecHash()))
		Expect(a.Spec.Recipe).To(BeEmpty(), "SpecHash leaves the object as it was")
	})

	It("does not depend on map order", func() {
		a := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "g"}, Spec: v1.WarmCanonicalSpec{Env: map[string]string{"A": "1", "B": "2", "C": "3"}}}
		b := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "g"}, Spec: v1.WarmCanonicalSpec{Env: map[string]string{"C": "3", "A": "1", "B": "2"}}}
		Expect(a.SpecHash()).To(Equal(b.SpecHash()))
	})

	It("changes when the spec changes, but not with status or metadata labels", func() {
		a := &v1.WarmCanonical{Metadata: v1.ObjectMeta{Name: "g"}}
		b := a.DeepCopy()
		b.Spec.AllowMajor = true
		c := a.DeepCopy()
		c.Status.DeployedVersion = "1.0.0+1.0"
		c.Metadata.Labels = map[string]string{"team": "x"}
		Expect(a.SpecHash()).NotTo(Equal(b.SpecHash()))
		Expect(a.SpecHash()).To(Equal(c.SpecHash()))
	})
})
