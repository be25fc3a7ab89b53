package secrets_test

import (
	"os"
	"path/filepath"

	"filippo.io/age"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

var _ = Describe("credential files", func() {
	var dir string

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
	})

	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		Expect(os.WriteFile(p, []byte(content), mode)).To(Succeed())
		Expect(os.Chmod(p, mode)).To(Succeed()) // past the umask
		return p
	}

	DescribeTable("refuse an age identity readable by group or others, naming the file and its mode",
		func(mode os.FileMode, want string) {
			id, err := age.GenerateX25519Identity()
			Expect(err).NotTo(HaveOccurred())
			key := write("key.txt", id.String()+"\n", mode)
			_, err = secrets.Load(key)
			Expect(err).To(MatchError("age identity file: " + key + " has mode " + want + ", readable by group or others (valid: a file only its owner can read: chmod 600 " + key + ")"))
		},
		Entry("0644", os.FileMode(0o644), "0644"),
		Entry("0666", os.FileMode(0o666), "0666"),
		Entry("0640", os.FileMode(0o640), "0640"),
		Entry("0604", os.FileMode(0o604), "0604"),
	)

	It("load an identity only its owner can read", func() {
		id, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		_, err = secrets.Load(write("key.txt", id.String()+"\n", 0o400))
		Expect(err).NotTo(HaveOccurred())
	})

	It("read a token without its surrounding whitespace", func() {
		token, err := secrets.ReadToken(write("token", "  s3cret\n", 0o600))
		Expect(err).NotTo(HaveOccurred())
		Expect(token).To(Equal("s3cret"))
	})

	DescribeTable("refuse a token file that would turn authentication off or that others can read",
		func(content string, mode os.FileMode, want string) {
			_, err := secrets.ReadToken(write("token", content, mode))
			Expect(err).To(MatchError(ContainSubstring(want)))
			Expect(err.Error()).To(HavePrefix(filepath.Join(dir, "token") + " "))
		},
		Entry("empty", "", os.FileMode(0o600), "is empty or only whitespace"),
		Entry("whitespace only", " \n\t\n", os.FileMode(0o600), "is empty or only whitespace"),
		Entry("readable by others", "s3cret\n", os.FileMode(0o644), "has mode 0644, readable by group or others"),
	)

	It("never quote a refused token", func() {
		_, err := secrets.ReadToken(write("token", "s3cret\n", 0o644))
		Expect(err.Error()).NotTo(ContainSubstring("s3cret"))
	})
})
