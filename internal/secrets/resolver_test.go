package secrets_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/secrets"
)

// encrypt returns value armored and encrypted to id, as `age -a -r` makes it.
func encrypt(id *age.X25519Identity, value string) string {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, id.Recipient())
	Expect(err).NotTo(HaveOccurred())
	_, err = w.Write([]byte(value))
	Expect(err).NotTo(HaveOccurred())
	Expect(w.Close()).To(Succeed())
	Expect(aw.Close()).To(Succeed())
	return buf.String()
}

var _ = Describe("Resolver", func() {
	const plaintext = "s3cret-smtp-password-do-not-leak"
	var dir string
	var id *age.X25519Identity

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		var err error
		id, err = age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		Expect(os.WriteFile(filepath.Join(dir, "key.txt"), []byte("# created: test\n"+id.String()+"\n"), 0o600)).To(Succeed())
	})

	It("decrypts an age value with the identity file and reads a file value", func() {
		r, err := secrets.Load(filepath.Join(dir, "key.txt"))
		Expect(err).NotTo(HaveOccurred())
		got, err := r.Value("spec.secrets.smtp", v1.SecretValue{Age: encrypt(id, plaintext)})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(plaintext))

		Expect(os.WriteFile(filepath.Join(dir, "smtp"), []byte(plaintext+"\n"), 0o600)).To(Succeed())
		got, err = r.Value("spec.secrets.smtp", v1.SecretValue{File: filepath.Join(dir, "smtp")})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(plaintext), "the editor's trailing newline is not part of the value")
	})

	It("names the field and never the content when it cannot decrypt", func() {
		other, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		r, err := secrets.Load(filepath.Join(dir, "key.txt"))
		Expect(err).NotTo(HaveOccurred())
		for _, v := range []v1.SecretValue{
			{Age: encrypt(other, plaintext)},
			{Age: "-----BEGIN AGE ENCRYPTED FILE-----\n" + plaintext + "\n-----END AGE ENCRYPTED FILE-----\n"},
		} {
			_, err := r.Value("WarmCanonical \"mail\": spec.secrets.smtp", v)
			Expect(err).To(MatchError(HavePrefix(`WarmCanonical "mail": spec.secrets.smtp.age: `)))
			Expect(err.Error()).NotTo(ContainSubstring(plaintext))
			Expect(strings.Contains(err.Error(), id.String())).To(BeFalse())
		}
		_, err = (&secrets.Resolver{}).Value("spec.secrets.smtp", v1.SecretValue{Age: encrypt(id, plaintext)})
		Expect(err).To(MatchError(ContainSubstring("no age identity to decrypt it with (valid: --age-identity FILE or CCCI_AGE_IDENTITY)")))
	})

	It("refuses an identity file that holds no identities, naming the file only", func() {
		Expect(os.WriteFile(filepath.Join(dir, "bad.txt"), []byte(plaintext), 0o600)).To(Succeed())
		_, err := secrets.Load(filepath.Join(dir, "bad.txt"))
		Expect(err).To(MatchError(ContainSubstring("bad.txt: not age identities")))
		Expect(err.Error()).NotTo(ContainSubstring(plaintext))
	})
})
