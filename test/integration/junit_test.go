//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	gojunit "github.com/joshdk/go-junit"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/store"
)

// A CI that runs trigger renders its --junit file as a test report: the file must parse with
// the readers CI tooling uses, count the tiers right, and pass the schema Jenkins holds it to.
var _ = Describe("trigger --junit and -o json", Ordered, func() {
	var w *world

	BeforeAll(func() {
		w = newWorld()
		// upgrade from the previous tag has nothing to start from at 1.0.0+1.0, and the custom
		// tier's file is not in the sample recipe: two Skipped tiers without slowing the run.
		w.writeRecipeTest("- name: lint", "- name: install", "- name: upgrade\n  from: previous",
			"- name: custom\n  command: [\"true\"]\n  when: { fileExists: compose.lfs.yml }")
	})

	It("writes a green run's report and prints its record", func(ctx SpecContext) {
		file := filepath.Join(GinkgoT().TempDir(), "green.xml")
		out, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag10, "--junit", file, "-o", "json")
		Expect(code).To(Equal(0))

		By("printing the run record as JSON, the same as the stored one")
		var printed v1.Run
		Expect(json.Unmarshal([]byte(out), &printed)).To(Succeed(), out)
		stored := w.runs()[0]
		Expect(printed.ID).To(Equal(stored.ID))
		Expect(printed.Verdict).To(Equal(v1.VerdictPassed))
		Expect(printed.Commit).To(Equal(stored.Commit))
		Expect(printed.Commit).To(HaveLen(40))
		Expect(printed.Tiers).To(Equal(stored.Tiers))

		By("reading the report with a JUnit reader")
		suite := ingest(file)
		Expect(suite.Name).To(Equal(w.name + " " + tag10))
		expectTotals(suite, 4, 2, 2, 0, 0)
		tests := testsByName(suite)
		Expect(tests["install"].Status).To(Equal(gojunit.StatusPassed))
		Expect(tests["install"].Classname).To(Equal(w.name))
		Expect(tests["install"].Duration).To(BeNumerically(">", 0))
		Expect(tests["lint"].Status).To(Equal(gojunit.StatusPassed))
		Expect(tests["upgrade"].Status).To(Equal(gojunit.StatusSkipped))
		Expect(tests["upgrade"].Message).To(HavePrefix("Skipped: "))
		Expect(tests["custom"].Status).To(Equal(gojunit.StatusSkipped))
		Expect(tests["custom"].Message).To(ContainSubstring("compose.lfs.yml"))
		expectJenkinsSchema(file)

		By("serving the same report from a daemon on the same state")
		d := w.startDaemon(ctx)
		resp, err := http.Get(d.url + "/runs/" + stored.ID + "/junit.xml")
		Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		Expect(resp.Header.Get("Content-Type")).To(HavePrefix("application/xml"))
		served, err := io.ReadAll(resp.Body)
		Expect(err).NotTo(HaveOccurred())
		written, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(served)).To(Equal(string(written)))
		resp404, err := http.Get(d.url + "/runs/nosuchrun/junit.xml")
		Expect(err).NotTo(HaveOccurred())
		resp404.Body.Close()
		Expect(resp404.StatusCode).To(Equal(http.StatusNotFound))
		Expect(badgeTitle(d, w.name)).To(Equal("tested: passing"))
		d.stop()
	}, NodeTimeout(4*time.Minute))

	It("writes a red run's report with the failed tier's reason and log tail, and exits 1", func(ctx SpecContext) {
		file := filepath.Join(GinkgoT().TempDir(), "red.xml")
		out, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag12, "--junit", file)
		Expect(code).To(Equal(1))
		Expect(out).To(MatchRegexp(`install\s+Failed`), "without -o json the tier table is printed")
		run := w.runs()[0]
		Expect(run.Verdict).To(Equal(v1.VerdictFailed))
		install := tierOf(run, v1.TierInstall)

		suite := ingest(file)
		Expect(suite.Name).To(Equal(w.name + " " + tag12))
		Expect(suite.Totals.Tests).To(Equal(len(run.Tiers)))
		Expect(suite.Totals.Failed).To(BeNumerically(">=", 1))
		Expect(suite.Totals.Error).To(Equal(0), "a red recipe is a failure, not an error")
		Expect(suite.Totals.Skipped).To(BeNumerically(">=", 1))
		tests := testsByName(suite)
		Expect(tests["install"].Status).To(Equal(gojunit.StatusFailed))
		Expect(tests["install"].Message).To(Equal(strings.Join(strings.Fields(install.Reason), " ")))
		Expect(tests["custom"].Status).To(Equal(gojunit.StatusSkipped))

		By("carrying the end of the install tier's log in the failure")
		log := tierLog(w, run.ID, v1.TierInstall)
		lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
		body := tests["install"].Error.(gojunit.Error).Body
		Expect(body).To(HavePrefix(install.Reason))
		Expect(body).To(HaveSuffix(lines[len(lines)-1]))
		expectJenkinsSchema(file)
		Expect(badgeTitle(w.startDaemon(ctx), w.name)).To(Equal("tested: failing"))
	}, NodeTimeout(4*time.Minute))
})

// badgeTitle returns the title of the daemon's badge of the RecipeTest name.
func badgeTitle(d *daemon, name string) string {
	GinkgoHelper()
	resp, err := http.Get(d.url + "/badges/recipetest/" + name + ".svg")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(string(body))
	Expect(m).To(HaveLen(2))
	return m[1]
}

// ingest reads a report with github.com/joshdk/go-junit and returns its only suite.
func ingest(file string) gojunit.Suite {
	GinkgoHelper()
	suites, err := gojunit.IngestFile(file)
	Expect(err).NotTo(HaveOccurred())
	Expect(suites).To(HaveLen(1))
	return suites[0]
}

func testsByName(s gojunit.Suite) map[string]gojunit.Test {
	m := map[string]gojunit.Test{}
	for _, t := range s.Tests {
		m[t.Name] = t
	}
	return m
}

// expectTotals checks the counts a reader finds: tests, passed, skipped, failed, errors.
func expectTotals(s gojunit.Suite, tests, passed, skipped, failed, errs int) {
	GinkgoHelper()
	t := s.Totals
	Expect([]int{t.Tests, t.Passed, t.Skipped, t.Failed, t.Error}).To(Equal([]int{tests, passed, skipped, failed, errs}),
		"tests, passed, skipped, failed, errors")
}

// expectJenkinsSchema validates file against testdata/jenkins-junit.xsd with xmllint (Debian's
// libxml2-utils; .ci/run installs it).
func expectJenkinsSchema(file string) {
	GinkgoHelper()
	xmllint, err := exec.LookPath("xmllint")
	Expect(err).NotTo(HaveOccurred(), "no xmllint on PATH: install Debian's libxml2-utils (apt-get install -y libxml2-utils)")
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "jenkins-junit.xsd"), file).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s", out)
	Expect(string(out)).To(ContainSubstring("validates"))
}

// tierLog reads a tier's log from the world's state directory.
func tierLog(w *world, runID string, tier v1.TierName) string {
	GinkgoHelper()
	st, err := store.Open(w.state)
	Expect(err).NotTo(HaveOccurred())
	data, err := (&controllers.View{Objects: &controllers.Dir{Root: w.resources}, Store: st}).Log(context.Background(), runID, tier)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}
