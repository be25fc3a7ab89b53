package junit_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	gojunit "github.com/joshdk/go-junit"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/junit"
)

func sec(s int) v1.Duration { return v1.Duration{Duration: time.Duration(s) * time.Second} }

var started = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func finished(d time.Duration) *time.Time { t := started.Add(d); return &t }

// report writes run and parses it back with a JUnit reader CIs' tooling uses.
func report(run v1.Run, logs junit.Logs) (string, gojunit.Suite) {
	var buf bytes.Buffer
	Expect(junit.Write(&buf, "gitea", run, logs)).To(Succeed())
	suites, err := gojunit.Ingest(buf.Bytes())
	Expect(err).NotTo(HaveOccurred())
	Expect(suites).To(HaveLen(1))
	return buf.String(), suites[0]
}

func byName(s gojunit.Suite) map[string]gojunit.Test {
	m := map[string]gojunit.Test{}
	for _, t := range s.Tests {
		m[t.Name] = t
	}
	return m
}

var _ = Describe("Write", func() {
	It("writes a red run as one suite with a failure carrying the reason and the log tail", func() {
		var log strings.Builder
		for i := 1; i <= 100; i++ {
			fmt.Fprintf(&log, "log line %d\n", i)
		}
		run := v1.Run{ID: "r1", Ref: "abc123", Version: "1.2.0+1.2", Commit: "abc123def", Trigger: v1.TriggerDrone, PR: 7,
			StartedAt: started, FinishedAt: finished(90 * time.Second), Verdict: v1.VerdictFailed,
			Tiers: []v1.TierResult{
				{Name: v1.TierInstall, Result: v1.ResultPassed, Duration: sec(40)},
				{Name: v1.TierUpgrade, Result: v1.ResultFailed, Reason: "service app did not turn healthy <within> 60s", Duration: sec(50)},
				{Name: v1.TierBackup, Result: v1.ResultSkipped, Reason: "upgrade failed"},
				{Name: v1.TierRestore, Result: v1.ResultNotApplicable, Reason: "no backupbot labels"},
			}}
		text, suite := report(run, func(t v1.TierName) []byte {
			if t == v1.TierUpgrade {
				return []byte(log.String())
			}
			return nil
		})
		Expect(suite.Name).To(Equal("gitea abc123 (1.2.0+1.2)"))
		expectTotals(suite, 4, 1, 2, 1, 0)
		Expect(suite.Properties).To(HaveKeyWithValue("commit", "abc123def"))
		Expect(suite.Properties).To(HaveKeyWithValue("pr", "7"))
		tests := byName(suite)
		Expect(tests["install"].Status).To(Equal(gojunit.StatusPassed))
		Expect(tests["install"].Classname).To(Equal("gitea"))
		Expect(tests["install"].Duration).To(Equal(40 * time.Second))
		up := tests["upgrade"]
		Expect(up.Status).To(Equal(gojunit.StatusFailed))
		Expect(up.Message).To(Equal("service app did not turn healthy <within> 60s"))
		body := up.Error.(gojunit.Error).Body
		Expect(body).To(ContainSubstring("log line 100"))
		Expect(body).To(ContainSubstring(fmt.Sprintf("log line %d", 100-junit.TailLines+1)))
		Expect(body).NotTo(ContainSubstring(fmt.Sprintf("log line %d\n", 100-junit.TailLines)))
		Expect(tests["backup"].Status).To(Equal(gojunit.StatusSkipped))
		Expect(tests["backup"].Message).To(Equal("Skipped: upgrade failed"))
		Expect(tests["restore"].Status).To(Equal(gojunit.StatusSkipped))
		Expect(tests["restore"].Message).To(Equal("NotApplicable: no backupbot labels"))
		Expect(text).To(ContainSubstring(`timestamp="2026-03-04T05:06:07"`))
		Expect(text).To(ContainSubstring("type=\"Failed\">service app did not turn healthy &lt;within&gt; 60s\n\nlast lines of the log:\nlog line 61\n"),
			"the failure's text is its content, line by line")
		Expect(text).To(ContainSubstring(`<testsuite name="gitea abc123 (1.2.0+1.2)" tests="4" failures="1" errors="0" skipped="2" time="90.000"`))
	})

	It("writes an Aborted run as an error, not a failure", func() {
		run := v1.Run{ID: "r2", Ref: "1.0.0+1.0", Version: "1.0.0+1.0", StartedAt: started, FinishedAt: finished(time.Second),
			Verdict: v1.VerdictAborted, Message: "docker daemon unreachable",
			Tiers: []v1.TierResult{{Name: v1.TierLint, Result: v1.ResultPassed, Duration: sec(1)},
				{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: "cancelled during install"}}}
		_, suite := report(run, nil)
		Expect(suite.Name).To(Equal("gitea 1.0.0+1.0"))
		expectTotals(suite, 3, 1, 0, 0, 2)
		t := byName(suite)[junit.AbortedCase]
		Expect(t.Status).To(Equal(gojunit.StatusError))
		Expect(t.Message).To(Equal("docker daemon unreachable"))
		Expect(byName(suite)["install"].Status).To(Equal(gojunit.StatusError), "a tier the abort cut short is not the recipe's failure")
	})

	It("writes log bytes XML cannot hold as replacement characters, so the report parses", func() {
		run := v1.Run{ID: "r3", StartedAt: started, Verdict: v1.VerdictFailed,
			Tiers: []v1.TierResult{{Name: v1.TierInstall, Result: v1.ResultFailed, Reason: "bad\x1b[31m"}}}
		text, suite := report(run, func(v1.TierName) []byte { return []byte("\x1b[31mred\x00\xff\n") })
		Expect(byName(suite)["install"].Status).To(Equal(gojunit.StatusFailed))
		Expect(xml.Unmarshal([]byte(text), new(any))).To(Succeed())
	})
})

// expectTotals checks the counts a reader finds: tests, passed, skipped, failed, errors.
func expectTotals(s gojunit.Suite, tests, passed, skipped, failed, errs int) {
	GinkgoHelper()
	t := s.Totals
	Expect([]int{t.Tests, t.Passed, t.Skipped, t.Failed, t.Error}).To(Equal([]int{tests, passed, skipped, failed, errs}))
}
