package main

import (
	"os"
	"path/filepath"

	agelib "filippo.io/age"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("credential files", func() {
	var dir string

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
	})

	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		Expect(os.WriteFile(p, []byte(content), mode)).To(Succeed())
		Expect(os.Chmod(p, mode)).To(Succeed())
		return p
	}

	DescribeTable("a token file that is empty or that others can read fails with exit 2, naming it",
		func(content string, mode os.FileMode, args ...string) {
			token := write("token", content, mode)
			code, _, stderr := cli(append(append([]string{"--state", filepath.Join(dir, "state")}, args...), "--token-file", token)...)
			Expect(code).To(Equal(2))
			Expect(stderr).To(HavePrefix("ccci-controller: --token-file: " + token + " "))
		},
		Entry("run, empty", "", os.FileMode(0o600), "run"),
		Entry("run, whitespace", "\n  \n", os.FileMode(0o600), "run"),
		Entry("run, mode 0644", "s3cret\n", os.FileMode(0o644), "run"),
		Entry("sweep --server, empty", "", os.FileMode(0o600), "sweep", "--server", "http://127.0.0.1:1"),
		Entry("trigger --server, mode 0640", "s3cret\n", os.FileMode(0o640), "trigger", "recipetest/x", "--ref", "main", "--server", "http://127.0.0.1:1"),
	)

	It("refuses an age identity that others can read, naming it and its mode", func() {
		id, err := agelib.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		key := write("key.txt", id.String()+"\n", 0o644)
		code, _, stderr := cli("--state", filepath.Join(dir, "state"), "--resources", filepath.Join(repoRoot, "config/samples"), "sweep", "--age-identity", key)
		Expect(code).To(Equal(2))
		Expect(stderr).To(ContainSubstring("--age-identity: age identity file: " + key + " has mode 0644, readable by group or others"))
	})

	It("refuses a --public-url that is not an absolute URL, with exit 2", func() {
		code, _, stderr := cli("--state", filepath.Join(dir, "state"), "run", "--public-url", "ci.example.org")
		Expect(code).To(Equal(2))
		Expect(stderr).To(HavePrefix(`ccci-controller: --public-url: "ci.example.org" is not an absolute URL`))
		By("on sweep too, where it builds the links of notifications")
		code, _, stderr = cli("--state", filepath.Join(dir, "state"), "--resources", filepath.Join(repoRoot, "config/samples"), "sweep", "--public-url", "ftp://ci.example.org")
		Expect(code).To(Equal(2))
		Expect(stderr).To(HavePrefix(`ccci-controller: --public-url: "ftp://ci.example.org" is not an absolute URL`))
	})
})
