package main

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("a command on a daemon's state directory", func() {
	It("reads the daemon's resources when none is given, and the given one otherwise", func() {
		w := newOperatorWorld()
		By("failing, as before, while no daemon has noted its resources")
		code, _, errOut := cli("--state", w.state, "get")
		Expect(code).NotTo(Equal(0))
		Expect(errOut).To(ContainSubstring("resources"))

		By("reading them from the note the daemon writes")
		Expect(writeDaemonRecord(w.state, w.resources, "127.0.0.1:8089")).To(Succeed())
		code, out, errOut := cli("--state", w.state, "get")
		Expect(code).To(Equal(0), errOut)
		Expect(out).To(ContainSubstring("app"))

		By("keeping an explicit --resources")
		code, _, _ = cli("--state", w.state, "--resources", GinkgoT().TempDir()+"/none", "get")
		Expect(code).NotTo(Equal(0))
	})
})
