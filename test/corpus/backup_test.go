package corpus_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/backup"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// planFor loads a corpus recipe's default compose files as abra would and returns its plan.
func planFor(name string) backup.Plan {
	dir := recipes[name]
	c, env := appEnv(dir, name, nil)
	st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, ComposeFiles: c.ComposeFiles, Env: env, StackName: stackName(name)})
	Expect(err).NotTo(HaveOccurred())
	return backup.For(st)
}

var _ = Describe("Backup plans of the public recipes", func() {
	// Derived by hand from the Co-op Cloud backup spec (specs/backup) and the recipes' labels.
	It("backs up all of llamenos' volumes: backupbot.backup=true on app enables the whole stack", func() {
		// app, db and minio carry backupbot.backup=true; app names no path, so the spec
		// applies: every volume, each from the service that mounts it (relay for nostr-data,
		// though relay carries no label). minio's backupbot.backup.path=/data is its whole
		// volume, already taken.
		p := planFor("llamenos")
		Expect(p.Enabled()).To(BeTrue())
		Expect(p.Style).To(Equal(backup.StyleMixed))
		Expect(p.Declared).To(Equal([]string{"app", "db", "minio"}))
		Expect(p.Sources).To(Equal([]backup.Source{
			{Service: "minio", Volume: "minio-data", VolumeName: "corpus_llamenos_minio-data", Base: "/data"},
			{Service: "relay", Volume: "nostr-data", VolumeName: "corpus_llamenos_nostr-data", Base: "/app/strfry-db"},
			{Service: "db", Volume: "postgres-data", VolumeName: "corpus_llamenos_postgres-data", Base: "/var/lib/postgresql/data"},
		}))
		Expect(p.Excluded).To(BeEmpty())
		Expect(p.Hooks).To(BeEmpty(), "backupbot.backup.command is not a hook of the spec")
		Expect(p.Problems).To(BeEmpty())
		Expect(p.Sources[2].ArchivePath("corpus_llamenos")).To(Equal("var/lib/docker/volumes/corpus_llamenos_postgres-data/_data"))
	})

	It("backs up foodsharing-cms' cms_data through its per-service path", func() {
		// One service, backupbot.backup=true with backupbot.backup.path=/data: the older style;
		// /data is where volume cms_data is mounted, so the whole volume.
		p := planFor("foodsharing-cms")
		Expect(p.Style).To(Equal(backup.StylePerService))
		Expect(p.Declared).To(Equal([]string{"app"}))
		Expect(p.Sources).To(Equal([]backup.Source{
			{Service: "app", Volume: "cms_data", VolumeName: "corpus_foodsharing_cms_cms_data", Base: "/data"},
		}))
		Expect(p.Hooks).To(BeEmpty())
		Expect(p.Problems).To(BeEmpty())
		Expect(p.Warnings).To(BeEmpty())
	})

	It("finds no backup in the other nine, bore's commented-out labels included", func() {
		for _, name := range recipeNames {
			if name == "llamenos" || name == "foodsharing-cms" {
				continue
			}
			p := planFor(name)
			Expect(p.Enabled()).To(BeFalse(), name)
			Expect(p.Sources).To(BeEmpty(), name)
		}
	})
})
