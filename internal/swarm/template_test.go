package swarm

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("versionVariable", func() {
	DescribeTable("names the variable to bump from a raw name template",
		func(template, want string) {
			Expect(versionVariable(template)).To(Equal(want))
		},
		Entry("abra's config convention", "${STACK_NAME}_motd_${MOTD_VERSION}", "MOTD_VERSION"),
		Entry("a secret", "${STACK_NAME}_db_password_${SECRET_DB_PASSWORD_VERSION}", "SECRET_DB_PASSWORD_VERSION"),
		Entry("unbraced variables", "$STACK_NAME-conf-$CONF_VERSION", "CONF_VERSION"),
		Entry("a default value", "${STACK_NAME}_nginx_${NGINX_CONF_VERSION:-v1}", "NGINX_CONF_VERSION"),
		Entry("a VERSION variable before another", "${STACK_NAME}_${APP_VERSION}_${FLAVOUR}", "APP_VERSION"),
		Entry("no VERSION variable: the last one", "${STACK_NAME}_${FLAVOUR}", "FLAVOUR"),
		Entry("only STACK_NAME", "${STACK_NAME}_motd", ""),
		Entry("a literal name", "motd", ""),
		Entry("an escaped dollar", "$${NOT_A_VAR}_x", ""),
	)
})

var _ = Describe("generateSecret", func() {
	It("draws the requested number of letters and digits, differently each time", func() {
		a, err := generateSecret(24, "")
		Expect(err).NotTo(HaveOccurred())
		b, err := generateSecret(24, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(a).To(HaveLen(24))
		Expect(string(a)).To(MatchRegexp(`^[A-Za-z0-9]+$`))
		Expect(a).NotTo(Equal(b))
	})

	It("honours charset=hex and refuses a charset it does not know", func() {
		a, err := generateSecret(64, CharsetHex)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(a)).To(MatchRegexp(`^[0-9a-f]{64}$`))
		_, err = generateSecret(8, "special")
		Expect(err).To(MatchError(`generate secret: unknown charset "special" (valid: alnum, hex)`))
	})

	It("defaults to 32 characters", func() {
		a, err := generateSecret(0, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(a).To(HaveLen(defaultSecretLength))
	})
})
