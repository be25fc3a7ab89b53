package tiers

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// tarOf builds a tar stream of headers, each regular file holding its name.
func tarOf(headers ...tar.Header) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Name))
		}
		Expect(tw.WriteHeader(&h)).To(Succeed())
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(h.Name))
			Expect(err).NotTo(HaveOccurred())
		}
	}
	Expect(tw.Close()).To(Succeed())
	return &buf
}

var _ = Describe("extractArtifacts", func() {
	var dir, outside string
	BeforeEach(func() {
		dir, outside = GinkgoT().TempDir(), GinkgoT().TempDir()
	})

	It("writes the files and directories under the copied directory's name", func() {
		Expect(extractArtifacts(tarOf(
			tar.Header{Typeflag: tar.TypeDir, Name: "artifacts/", Mode: 0o1777},
			tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/report.xml", Mode: 0o644},
			tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/screens/a.png", Mode: 0o644},
		), dir)).To(Succeed())
		Expect(os.ReadFile(filepath.Join(dir, "report.xml"))).To(Equal([]byte("artifacts/report.xml")))
		Expect(filepath.Join(dir, "screens", "a.png")).To(BeARegularFile())
	})

	DescribeTable("refuses what the container could use to reach the host",
		func(h tar.Header, msg string) {
			err := extractArtifacts(tarOf(h, tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/link/x", Mode: 0o644}), dir)
			Expect(err).To(MatchError(ContainSubstring(msg)))
			entries, _ := os.ReadDir(outside)
			Expect(entries).To(BeEmpty())
		},
		Entry("a symbolic link", tar.Header{Typeflag: tar.TypeSymlink, Name: "artifacts/link", Linkname: "/tmp"}, `artifact "link": not a regular file or directory; refused`),
		Entry("a hard link", tar.Header{Typeflag: tar.TypeLink, Name: "artifacts/link", Linkname: "/etc/passwd"}, `artifact "link": not a regular file or directory; refused`),
		Entry("a device", tar.Header{Typeflag: tar.TypeChar, Name: "artifacts/link"}, `artifact "link": not a regular file or directory; refused`),
		Entry("a climbing name", tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/../../x", Mode: 0o644}, `artifact "../../x": not a plain relative path; refused`),
	)

	It("never overwrites a file of the run", func() {
		Expect(os.WriteFile(filepath.Join(dir, "backup.tar.gz"), []byte("mine"), 0o644)).To(Succeed())
		err := extractArtifacts(tarOf(tar.Header{Typeflag: tar.TypeReg, Name: "artifacts/backup.tar.gz", Mode: 0o644}), dir)
		Expect(err).To(MatchError(ContainSubstring(`write artifact "backup.tar.gz"`)))
		Expect(os.ReadFile(filepath.Join(dir, "backup.tar.gz"))).To(Equal([]byte("mine")))
	})
})

var _ = Describe("treeTar", func() {
	It("holds the checkout's files, directories and inner links, with their modes", func() {
		dir := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(dir, "tests"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "compose.yml"), []byte("services: {}\n"), 0o644)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "tests", "run.sh"), []byte("#!/bin/sh\n"), 0o755)).To(Succeed())
		Expect(os.Symlink("tests/run.sh", filepath.Join(dir, "run"))).To(Succeed())
		b, err := treeTar(dir)
		Expect(err).NotTo(HaveOccurred())
		got := map[string]string{}
		tr := tar.NewReader(bytes.NewReader(b))
		for h, err := tr.Next(); err == nil; h, err = tr.Next() {
			got[h.Name] = string(h.Typeflag) + " " + os.FileMode(h.Mode).String() + " " + h.Linkname
		}
		Expect(got).To(Equal(map[string]string{
			"compose.yml":  "0 -rw-r--r-- ",
			"tests/":       "5 -rwxr-xr-x ",
			"tests/run.sh": "0 -rwxr-xr-x ",
			"run":          "2 -rwxrwxrwx tests/run.sh",
		}))
	})
})
