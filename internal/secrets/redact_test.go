package secrets_test

import (
	"bytes"
	"encoding/json"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

var _ = Describe("Redact", func() {
	BeforeEach(func() {
		secrets.Remember(`RecipeTest "x" spec.env.SMTP_PASSWORD.age`, "hunter2-"+"smtp")
		secrets.Remember("spec.secrets.db_password", `quo"te\and-newline`+"\n")
		secrets.Remember("spec.secrets.db_password_long", "hunter2-smtp-and-more")
		secrets.Remember("spec.env.SHORT", "abc")
	})

	DescribeTable("replaces every known value, in every spelling, by its name",
		func(in, want string) { Expect(secrets.Redact(in)).To(Equal(want)) },
		Entry("as it is", `image "hunter2-smtp" is invalid`, `image "<redacted:SMTP_PASSWORD>" is invalid`),
		Entry("quoted with %q", fmt.Sprintf("got %q", `quo"te\and-newline`+"\n"), `got "<redacted:db_password>"`),
		Entry("a longer value holding a shorter one, whole", "hunter2-smtp-and-more", "<redacted:db_password_long>"),
		Entry("not a value shorter than four bytes", "abc", "abc"),
		Entry("nothing else", "plain text", "plain text"),
	)

	It("redacts JSON a store writes", func() {
		data, err := json.Marshal(map[string]string{"message": `load: "quo"te\and-newline` + "\n" + `" is not an image`})
		Expect(err).NotTo(HaveOccurred())
		out := secrets.RedactBytes(data)
		Expect(string(out)).To(ContainSubstring("<redacted:db_password>"))
		var back map[string]string
		Expect(json.Unmarshal(out, &back)).To(Succeed(), "still JSON")
	})

	It("redacts what a Writer passes on", func() {
		var buf bytes.Buffer
		_, err := secrets.Writer(&buf).Write([]byte("level=INFO error=\"hunter2-smtp\"\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(buf.String()).To(Equal("level=INFO error=\"<redacted:SMTP_PASSWORD>\"\n"))
	})
})
