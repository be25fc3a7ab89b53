package store

import (
	"io/fs"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// modes returns the permission bits of everything under dir, dir included, by path.
func modes(dir string) map[string]fs.FileMode {
	out := map[string]fs.FileMode{}
	Expect(filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		Expect(err).NotTo(HaveOccurred())
		info, err := d.Info()
		Expect(err).NotTo(HaveOccurred())
		out[path] = info.Mode().Perm()
		return nil
	})).To(Succeed())
	return out
}

var _ = Describe("file modes", func() {
	Context("with a fresh state directory", func() {
		It("creates the directory 0700 and every file in it 0600, whatever the umask allows", func() {
			dir := filepath.Join(GinkgoT().TempDir(), "parent", "state")
			s, err := Open(dir)
			Expect(err).NotTo(HaveOccurred())
			_, tightened := s.Tightened()
			Expect(tightened).To(BeFalse())
			Expect(s.Put("WarmCanonical", "gitea", map[string]string{"a": "b"})).To(Succeed())
			Expect(s.PutRun("gitea", "r1", map[string]string{"verdict": "Passed"})).To(Succeed())
			unlock, err := s.Lock(GinkgoT().Context(), "WarmCanonical", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(unlock()).To(Succeed())

			all := modes(dir)
			Expect(len(all)).To(BeNumerically(">=", 10))
			for path, mode := range all {
				info, err := os.Stat(path)
				Expect(err).NotTo(HaveOccurred())
				if info.IsDir() {
					Expect(mode).To(Equal(fs.FileMode(0o700)), path)
				} else {
					Expect(mode).To(Equal(fs.FileMode(0o600)), path)
				}
			}
			By("leaving the parents it created as a plain directory is")
			info, err := os.Stat(filepath.Dir(dir))
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Mode().Perm() & 0o700).To(Equal(fs.FileMode(0o700)))
		})
	})

	Context("with an existing directory others may enter", func() {
		It("tightens it to 0700 and says from what", func() {
			dir := GinkgoT().TempDir()
			Expect(os.Chmod(dir, 0o755)).To(Succeed())
			s, err := Open(dir)
			Expect(err).NotTo(HaveOccurred())
			was, tightened := s.Tightened()
			Expect(tightened).To(BeTrue())
			Expect(was).To(Equal(fs.FileMode(0o755)))
			info, err := os.Stat(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(info.Mode().Perm()).To(Equal(fs.FileMode(0o700)))

			By("leaving a directory already private alone")
			s, err = Open(dir)
			Expect(err).NotTo(HaveOccurred())
			_, tightened = s.Tightened()
			Expect(tightened).To(BeFalse())
		})
	})
})

var _ = Describe("run leases", func() {
	It("can be tested without being taken, and end with their release", func() {
		s, err := Open(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		held, err := s.LeaseHeld("r1")
		Expect(err).NotTo(HaveOccurred())
		Expect(held).To(BeFalse())

		release, err := s.HoldLease("r1")
		Expect(err).NotTo(HaveOccurred())
		for range 3 {
			held, err = s.LeaseHeld("r1")
			Expect(err).NotTo(HaveOccurred())
			Expect(held).To(BeTrue(), "testing it twice does not take it")
		}
		By("a second holder being refused")
		_, err = s.HoldLease("r1")
		Expect(err).To(MatchError(ContainSubstring("held by another process")))

		release()
		held, err = s.LeaseHeld("r1")
		Expect(err).NotTo(HaveOccurred())
		Expect(held).To(BeFalse())
		_, err = os.Stat(filepath.Join(s.Dir(), "locks", "Run", "r1.lock"))
		Expect(os.IsNotExist(err)).To(BeTrue())
	})
})
