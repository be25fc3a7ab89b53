package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/secrets"
)

var _ = Describe("trigger's reports", func() {
	It("redact a secret this process saw, in the JSON record and the JUnit file", func() {
		const value = "report-test-s3cret-value"
		secrets.Remember("report_test_password", value)
		run := v1.Run{ID: "r1", Verdict: v1.VerdictFailed, Message: "install failed: password " + value + " refused",
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: "password " + value + " refused"}}}

		var out bytes.Buffer
		Expect((&triggerOptions{Output: outputJSON}).print(&out, "app", run)).To(Succeed())
		Expect(out.String()).To(ContainSubstring(`"verdict": "Failed"`))
		Expect(out.String()).NotTo(ContainSubstring(value))

		file := filepath.Join(GinkgoT().TempDir(), "report.xml")
		src := func(context.Context, string) ([]byte, error) { return []byte("<failure>" + value + "</failure>"), nil }
		Expect((&triggerOptions{JUnit: file}).writeJUnit(context.Background(), src, run.ID)).To(Succeed())
		data, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring("<failure>"))
		Expect(string(data)).NotTo(ContainSubstring(value))
	})
})
