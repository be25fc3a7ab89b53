package backup_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/backup"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

// planOf loads one compose file as stack "s" with env and returns its backup plan.
func planOf(compose string, env map[string]string) backup.Plan {
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644)).To(Succeed())
	st, err := swarm.Load(swarm.LoadOptions{WorkingDir: dir, ComposeFiles: []string{"compose.yml"}, Env: env, StackName: "s"})
	Expect(err).NotTo(HaveOccurred())
	return backup.For(st)
}

// The expectations below are read off the Co-op Cloud backup spec (specs/backup): one
// backupbot.backup=true enables the whole stack, all volumes by default, exclusions, paths
// relative to the volume root, hooks in the declaring service, archive under
// /var/lib/docker/volumes/<stack>_<volume>.
const specStack = `
version: "3.8"
services:
  app:
    image: a:1
    volumes: [cache:/cache]
  db:
    image: pg:15
    volumes: [db:/var/lib/postgresql/data]
    deploy:
      labels:
        backupbot.backup: "${ENABLE_BACKUPS:-true}"
        backupbot.backup.pre-hook: "/pg_backup.sh backup"
        backupbot.restore.post-hook: "/pg_backup.sh restore"
        backupbot.backup.volumes.db.path: "backup.sql"
        backupbot.backup.volumes.cache: "false"
volumes:
  db:
  cache:
`

var _ = Describe("For", func() {
	Context("when the stack follows the backup spec", func() {
		It("enables the stack from the interpolated label and takes the dump file only", func() {
			p := planOf(specStack, nil)
			Expect(p.Enabled()).To(BeTrue())
			Expect(p.Style).To(Equal(backup.StyleSpec))
			Expect(p.Declared).To(Equal([]string{"db"}))
			Expect(p.Sources).To(Equal([]backup.Source{
				{Service: "db", Volume: "db", VolumeName: "s_db", Base: "/var/lib/postgresql/data", Rel: "backup.sql"},
			}))
			Expect(p.Excluded).To(Equal([]string{"cache"}))
			Expect(p.Hooks).To(Equal([]backup.Hook{
				{Service: "db", Label: "backupbot.backup.pre-hook", Command: "/pg_backup.sh backup"},
				{Service: "db", Label: "backupbot.restore.post-hook", Command: "/pg_backup.sh restore"},
			}))
			Expect(p.Problems).To(BeEmpty())
			Expect(p.Warnings).To(BeEmpty())
			Expect(p.Sources[0].ArchivePath("s")).To(Equal("var/lib/docker/volumes/s_db/_data/backup.sql"))
			Expect(p.Sources[0].ContainerPath()).To(Equal("/var/lib/postgresql/data/backup.sql"))
		})

		It("is not enabled when the variable turns backups off", func() {
			p := planOf(specStack, map[string]string{"ENABLE_BACKUPS": "false"})
			Expect(p.Enabled()).To(BeFalse())
			Expect(p.Sources).To(BeEmpty())
		})

		It("takes every volume of the stack, from whichever service mounts it", func() {
			p := planOf(`
services:
  web:
    image: w:1
    deploy: {labels: ["backupbot.backup=true"]}
  db:
    image: pg:15
    volumes: [{type: volume, source: db, target: /var/lib/postgresql/data/}]
  files:
    image: f:1
    volumes: [files:/srv, files:/mirror, "/tmp/bind:/bind"]
volumes:
  db:
  files:
  unused:
`, nil)
			Expect(p.Style).To(Equal(backup.StyleSpec))
			Expect(p.Sources).To(Equal([]backup.Source{
				{Service: "db", Volume: "db", VolumeName: "s_db", Base: "/var/lib/postgresql/data"},
				{Service: "files", Volume: "files", VolumeName: "s_files", Base: "/srv"},
			}))
			Expect(p.Warnings).To(ConsistOf("volume unused is mounted by no service: there is nothing of it to back up"))
			Expect(p.Sources[0].ArchivePath("s")).To(Equal("var/lib/docker/volumes/s_db/_data"))
		})

		It("splits comma-separated paths and refuses paths outside the volume", func() {
			p := planOf(`
services:
  app:
    image: a:1
    volumes: [data:/data]
    deploy:
      labels:
        - backupbot.backup=true
        - "backupbot.backup.volumes.data.path=uploads, db/dump.sql ,/etc/passwd,../x"
        - backupbot.backup.volumes.nope=false
volumes:
  data:
`, nil)
			Expect(p.Sources).To(Equal([]backup.Source{
				{Service: "app", Volume: "data", VolumeName: "s_data", Base: "/data", Rel: "uploads"},
				{Service: "app", Volume: "data", VolumeName: "s_data", Base: "/data", Rel: "db/dump.sql"},
			}))
			Expect(p.Problems).To(ConsistOf(
				`label backupbot.backup.volumes.nope (service app) names volume "nope", which the stack does not define (volumes: data)`,
				`label backupbot.backup.volumes.data.path: "/etc/passwd" is not a path relative to the volume root (such as backup.sql or data/files)`,
				`label backupbot.backup.volumes.data.path: "../x" is not a path relative to the volume root (such as backup.sql or data/files)`,
			))
		})

		It("has a problem when every volume is excluded", func() {
			p := planOf(`
services:
  app:
    image: a:1
    volumes: [data:/data]
    deploy: {labels: {backupbot.backup: "true", backupbot.backup.volumes.data: "false"}}
volumes:
  data:
`, nil)
			Expect(p.Enabled()).To(BeTrue())
			Expect(p.Sources).To(BeEmpty())
			Expect(p.Problems).To(ConsistOf(ContainSubstring("backups are enabled (backupbot.backup=true on app) but the plan takes nothing")))
		})
	})

	Context("when the stack uses the older per-service style", func() {
		It("takes the named paths, as volumes where they lie in one", func() {
			p := planOf(`
services:
  app:
    image: a:1
    volumes: [data:/data]
    deploy: {labels: ["backupbot.backup=true", "backupbot.backup.path=/data,/etc/app"]}
  search:
    image: s:1
    volumes: [index:/var/lib/search]
    deploy: {labels: ["backupbot.backup=true", "backupbot.backup.path=/var/lib/search/index"]}
  cache:
    image: c:1
    volumes: [cache:/cache]
volumes:
  data:
  index:
  cache:
`, nil)
			Expect(p.Style).To(Equal(backup.StylePerService))
			Expect(p.Sources).To(Equal([]backup.Source{
				{Service: "app", Volume: "data", VolumeName: "s_data", Base: "/data"},
				{Service: "app", Base: "/", Rel: "etc/app"},
				{Service: "search", Volume: "index", VolumeName: "s_index", Base: "/var/lib/search", Rel: "index"},
			}))
			Expect(p.Warnings).To(ConsistOf("services.app.deploy.labels backupbot.backup.path: /etc/app is in no volume of the service, so it does not survive a redeploy"))
			Expect(p.Sources[1].ArchivePath("s")).To(Equal("containers/s_app/etc/app"))
		})
	})

	Context("when a stack mixes both styles (llamenos)", func() {
		It("takes the union and warns", func() {
			p := planOf(`
services:
  app:
    image: a:1
    deploy: {labels: ["backupbot.backup=true"]}
  db:
    image: pg:17
    volumes: [postgres-data:/var/lib/postgresql/data]
    deploy: {labels: ["backupbot.backup=true", "backupbot.backup.command=pg_dump -U x x"]}
  minio:
    image: m:1
    volumes: [minio-data:/data]
    deploy: {labels: ["backupbot.backup=true", "backupbot.backup.path=/data"]}
volumes:
  postgres-data:
  minio-data:
`, nil)
			Expect(p.Style).To(Equal(backup.StyleMixed))
			Expect(p.Declared).To(Equal([]string{"app", "db", "minio"}))
			Expect(p.Sources).To(Equal([]backup.Source{
				{Service: "minio", Volume: "minio-data", VolumeName: "s_minio-data", Base: "/data"},
				{Service: "db", Volume: "postgres-data", VolumeName: "s_postgres-data", Base: "/var/lib/postgresql/data"},
			}))
			Expect(p.Problems).To(BeEmpty())
			Expect(p.Warnings).To(ConsistOf(
				"services.db.deploy.labels backupbot.backup.command is not a label of the backup spec: it is ignored",
				"backup labels mix the backup spec (backupbot.backup.volumes.*, or backupbot.backup=true without a path on app, db) with the older backupbot.backup.path on minio: the plan takes both; use one style",
			))
		})
	})

	Context("when no service enables backups", func() {
		It("is not enabled, and says a path label without the switch is ignored", func() {
			p := planOf(`
services:
  app:
    image: a:1
    volumes: [data:/data]
    labels: {backupbot.backup: "true"}
    deploy: {labels: ["backupbot.backup.path=/data"]}
volumes:
  data:
`, nil)
			Expect(p.Enabled()).To(BeFalse())
			Expect(p.Warnings).To(ConsistOf(
				"services.app.labels sets backupbot.backup on the container: backupbot reads deploy.labels, so it is ignored",
			))
		})
	})
})
