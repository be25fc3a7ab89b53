package store

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("a write to a full state directory", func() {
	It("is named NoSpaceError with the directory, and every failed write is counted", func() {
		s, err := Open(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		full := &fs.PathError{Op: "write", Path: s.Dir() + "/status/.x.tmp-1", Err: syscall.ENOSPC}
		err = s.wrote(full)
		Expect(err).To(MatchError(HavePrefix("no space left on " + s.Dir() + ": write ")))
		Expect(IsNoSpace(fmt.Errorf("put status of a/b: %w", err))).To(BeTrue())
		Expect(errors.Is(err, syscall.ENOSPC)).To(BeTrue())

		other := s.wrote(&fs.PathError{Op: "write", Path: "x", Err: syscall.EIO})
		Expect(IsNoSpace(other)).To(BeFalse())
		Expect(s.wrote(nil)).To(Succeed())
		Expect(s.WriteErrors()).To(Equal(uint64(2)))
	})
})
