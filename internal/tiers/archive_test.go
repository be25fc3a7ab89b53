package tiers

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// containerCopy builds a tar stream the way a container copy of a directory returns it: entries
// named after the directory's base name.
func containerCopy(base string, files map[string]string) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	Expect(tw.WriteHeader(&tar.Header{Name: base + "/", Typeflag: tar.TypeDir, Mode: 0o755})).To(Succeed())
	for name, content := range files {
		Expect(tw.WriteHeader(&tar.Header{Name: base + "/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})).To(Succeed())
		_, err := tw.Write([]byte(content))
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(tw.Close()).To(Succeed())
	return &buf
}

func tarNames(r io.Reader) map[string]string {
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		data, _ := io.ReadAll(tr)
		out[hdr.Name] = string(data)
	}
}

var _ = Describe("Archive", func() {
	It("lays volumes out as the backup spec's output says and gives each source back ready to extract", func() {
		file := filepath.Join(GinkgoT().TempDir(), "backup.tar.gz")
		aw, err := createArchive(file)
		Expect(err).NotTo(HaveOccurred())
		vol := "var/lib/docker/volumes/s_data/_data"
		Expect(aw.add(vol, containerCopy("data", map[string]string{"state": "42", "sub/x": "y"}))).To(Succeed())
		db := "var/lib/docker/volumes/s_db/_data/backup.sql"
		Expect(aw.add(db, singleFile("backup.sql", "rows"))).To(Succeed())
		a, err := aw.close()
		Expect(err).NotTo(HaveOccurred())

		By("describing the file with its real checksum")
		data, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		sum := sha256.Sum256(data)
		Expect(a.SHA256).To(Equal(hex.EncodeToString(sum[:])))
		Expect(a.Size).To(Equal(int64(len(data))))
		Expect(a.Files).To(Equal(3))

		By("finding a file by its archive name")
		Expect(archiveFile(file, vol+"/state")).To(Equal("42"))
		Expect(archiveFile(file, db)).To(Equal("rows"))
		_, err = archiveFile(file, vol+"/missing")
		Expect(err).To(MatchError(ContainSubstring("has no entry " + vol + "/missing")))

		By("streaming a whole volume relative to its mount point")
		rc := sourceTar(file, vol, "")
		Expect(tarNames(rc)).To(Equal(map[string]string{"state": "42", "sub/x": "y"}))
		rc.Close()

		By("streaming a path of a volume relative to the volume's mount point")
		rc = sourceTar(file, db, "backup.sql")
		Expect(tarNames(rc)).To(Equal(map[string]string{"backup.sql": "rows"}))
		rc.Close()
	})

	It("fails on a corrupt stream", func() {
		file := filepath.Join(GinkgoT().TempDir(), "backup.tar.gz")
		aw, err := createArchive(file)
		Expect(err).NotTo(HaveOccurred())
		defer aw.abort()
		Expect(aw.add("app", bytes.NewReader([]byte("this is not a tar stream, but long enough to be read as a header block....")))).NotTo(Succeed())
	})
})

// singleFile builds a tar stream the way a container copy of one file returns it.
func singleFile(name, content string) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	Expect(tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))})).To(Succeed())
	_, err := tw.Write([]byte(content))
	Expect(err).NotTo(HaveOccurred())
	Expect(tw.Close()).To(Succeed())
	return &buf
}
