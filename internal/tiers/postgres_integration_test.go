//go:build integration

package tiers_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// pgMarker proves data survives as a row of the database, as the example writes it.
var pgMarker = &v1.Marker{
	Service: "db",
	Write:   []string{"sh", "-c", `psql -v ON_ERROR_STOP=1 -U app -d app -c "CREATE TABLE IF NOT EXISTS ci_marker(v text); INSERT INTO ci_marker VALUES ('$CCCI_MARKER')"`},
	Read:    []string{"psql", "-U", "app", "-d", "app", "-tAc", "SELECT v FROM ci_marker"},
}

// archiveEntries lists the names and contents of a run's backup archive, read here by the
// test itself rather than through the runner's code.
func archiveEntries(file string) map[string]string {
	f, err := os.Open(file)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	gz, err := gzip.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		data, err := io.ReadAll(tr)
		Expect(err).NotTo(HaveOccurred())
		out[hdr.Name] = string(data)
	}
}

var _ = Describe("Runner.Run on Swarm with a real PostgreSQL", Ordered, Label("integration"), func() {
	var pgSource *recipe.Source

	BeforeAll(func(ctx SpecContext) {
		By("building ccci-postgres:15 from Debian's packages and the database sample recipe")
		Expect(fixtures.BuildPostgresImage(ctx)).To(Succeed())
		dir := GinkgoT().TempDir()
		repo, err := fixtures.PostgresRecipe(filepath.Join(dir, "recipe"))
		Expect(err).NotTo(HaveOccurred())
		pgSource, err = recipe.Open(ctx, "pg", repo, recipe.Options{CacheDir: filepath.Join(dir, "cache")})
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(5*time.Minute))

	pgSpec := func(tl ...v1.Tier) v1.RecipeTestSpec {
		rt := v1.RecipeTest{Metadata: v1.ObjectMeta{Name: "pg"}, Spec: v1.RecipeTestSpec{
			Source: v1.Source{Git: "unused"}, Tiers: tl, Timeout: v1.Minutes(5), Marker: pgMarker,
			Env: map[string]string{"DOMAIN": "{{ .Stack }}.test.local"},
		}}
		rt.Default()
		return rt.Spec
	}
	pgRun := func(ctx context.Context, ref string, spec v1.RecipeTestSpec) v1.Run {
		rec := runRecipe(ctx, pgSource, ref, spec, "")
		Eventually(leftoversOf).WithContext(ctx).WithArguments("pg", rec.ID).
			WithTimeout(time.Minute).WithPolling(time.Second).Should(BeEmpty(), "nothing of the run is left on Swarm")
		return rec
	}

	It("passes a good release: a row survives upgrade, backup and restore, and the archive holds only the dump", func(ctx SpecContext) {
		rec := pgRun(ctx, "1.1.0+15.0", pgSpec(
			v1.Tier{Name: v1.TierLint}, v1.Tier{Name: v1.TierInstall},
			v1.Tier{Name: v1.TierUpgrade, From: v1.FromPrevious},
			v1.Tier{Name: v1.TierBackup}, v1.Tier{Name: v1.TierRestore},
		))
		for _, t := range rec.Tiers {
			Expect(t.Result).To(Equal(v1.ResultPassed), "tier %s: %s", t.Name, t.Reason)
		}
		Expect(rec.Verdict).To(Equal(v1.VerdictPassed))
		Expect(rec.BaseVersion).To(Equal("1.0.0+15.0"))

		By("reading the backup archive: the dump of the db volume where the spec puts it, with the marker row, and nothing else")
		dir, err := st.RunDir("pg", rec.ID)
		Expect(err).NotTo(HaveOccurred())
		entries := archiveEntries(filepath.Join(dir, "artifacts", "backup.tar.gz"))
		dump := "var/lib/docker/volumes/" + tiers.StackName("pg", rec.ID, "") + "_db/_data/backup.sql"
		Expect(entries).To(HaveLen(1), "only the dump: not the live PGDATA, not the excluded cache volume")
		Expect(entries).To(HaveKey(dump))
		Expect(entries[dump]).To(ContainSubstring("CREATE TABLE public.ci_marker"))
		Expect(entries[dump]).To(ContainSubstring("ccci-backup-" + rec.ID))
	}, NodeTimeout(8*time.Minute))

	It("fails backup for a release whose hook pipeline hides a failed pg_dump", func(ctx SpecContext) {
		rec := pgRun(ctx, "1.2.0+15.0", pgSpec(v1.Tier{Name: v1.TierInstall}, v1.Tier{Name: v1.TierBackup}))
		Expect(tierResult(rec, v1.TierInstall).Result).To(Equal(v1.ResultPassed))
		b := tierResult(rec, v1.TierBackup)
		Expect(b.Result).To(Equal(v1.ResultFailed))
		Expect(b.Reason).To(ContainSubstring("backupbot.backup.pre-hook"))
		Expect(b.Reason).To(ContainSubstring("exited with code 1"))
		Expect(b.Reason).To(ContainSubstring(`database "app_archive" does not exist`))
		Expect(rec.Verdict).To(Equal(v1.VerdictFailed))
	}, NodeTimeout(5*time.Minute))

	It("fails restore for a release whose restore hook no longer re-imports the dump", func(ctx SpecContext) {
		rec := pgRun(ctx, "1.3.0+15.0", pgSpec(v1.Tier{Name: v1.TierInstall}, v1.Tier{Name: v1.TierBackup}, v1.Tier{Name: v1.TierRestore}))
		Expect(tierResult(rec, v1.TierBackup).Result).To(Equal(v1.ResultPassed))
		r := tierResult(rec, v1.TierRestore)
		Expect(r.Result).To(Equal(v1.ResultFailed))
		Expect(r.Reason).To(HavePrefix("marker lost"))
		Expect(strings.ToLower(r.Reason)).To(ContainSubstring("ci_marker"), "the read finds no table: the dump was never imported")
		Expect(rec.Verdict).To(Equal(v1.VerdictFailed))
	}, NodeTimeout(5*time.Minute))
})
