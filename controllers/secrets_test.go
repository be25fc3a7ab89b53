package controllers_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("SecretPolicies", func() {
	declared := map[string]recipe.SecretSpec{
		"db_password": {EnvVar: "SECRET_DB_PASSWORD_VERSION", Length: 24, Generate: true},
		"smtp":        {EnvVar: "SECRET_SMTP_VERSION", Generate: false},
	}

	It("generates what may be generated and names the field a generate=false secret needs", func() {
		ps, err := controllers.SecretPolicies(nil, declared, nil, `WarmCanonical "mail"`)
		Expect(err).NotTo(HaveOccurred())
		Expect(ps["db_password"].Generate).To(BeTrue())
		Expect(ps["smtp"].Generate).To(BeFalse())
		Expect(ps["smtp"].Missing).To(Equal(`WarmCanonical "mail": set spec.secrets.smtp to {file: PATH} or {age: <age -a output>} (SECRET_SMTP_VERSION is generate=false in .env.sample)`))
	})

	It("inserts a given value, and refuses a name the recipe does not declare", func() {
		file := filepath.Join(GinkgoT().TempDir(), "smtp")
		Expect(os.WriteFile(file, []byte("pw"), 0o600)).To(Succeed())
		ps, err := controllers.SecretPolicies(nil, declared, map[string]v1.SecretValue{"smtp": {File: file}}, `WarmCanonical "mail"`)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(ps["smtp"].Value)).To(Equal("pw"))
		_, err = controllers.SecretPolicies(nil, declared, map[string]v1.SecretValue{"smpt": {File: file}}, `WarmCanonical "mail"`)
		Expect(err).To(MatchError(`WarmCanonical "mail": spec.secrets.smpt: the recipe declares no such secret (valid: db_password, smtp)`))
	})
})
