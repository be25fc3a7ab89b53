package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

type status struct {
	ObservedGeneration string   `json:"observedGeneration"`
	FailedVersions     []string `json:"failedVersions,omitempty"`
}

var _ = Describe("Store", func() {
	var (
		dir string
		s   *Store
	)

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		var err error
		s, err = Open(dir, WithRunHistory(3))
		Expect(err).NotTo(HaveOccurred())
	})

	Describe("status", func() {
		It("round-trips a status and reports a missing one as not found", func() {
			var got status
			found, err := s.Get("WarmCanonical", "gitea", &got)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeFalse())

			want := status{ObservedGeneration: "abc", FailedVersions: []string{"3.6.0+1.24.2"}}
			Expect(s.Put("WarmCanonical", "gitea", want)).To(Succeed())
			found, err = s.Get("WarmCanonical", "gitea", &got)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue())
			Expect(got).To(Equal(want))
			Expect(filepath.Join(dir, "status", "WarmCanonical", "gitea.json")).To(BeARegularFile())
		})

		It("lists and deletes statuses", func() {
			Expect(s.Put("RecipeTest", "b", status{})).To(Succeed())
			Expect(s.Put("RecipeTest", "a", status{})).To(Succeed())
			Expect(s.List("RecipeTest")).To(Equal([]string{"a", "b"}))
			Expect(s.Delete("RecipeTest", "a")).To(Succeed())
			Expect(s.Delete("RecipeTest", "a")).To(Succeed(), "deleting twice is not an error")
			Expect(s.List("RecipeTest")).To(Equal([]string{"b"}))
			Expect(s.List("WarmCanonical")).To(BeEmpty())
		})

		DescribeTable("rejects names that would leave the state directory",
			func(kind, name string) {
				Expect(s.Put(kind, name, status{})).To(MatchError(ContainSubstring("put status")))
				_, err := s.Get(kind, name, &status{})
				Expect(err).To(HaveOccurred())
			},
			Entry("parent directory", "RecipeTest", ".."),
			Entry("path separator", "RecipeTest", "../../etc/passwd"),
			Entry("hidden", "RecipeTest", ".x"),
			Entry("empty name", "RecipeTest", ""),
			Entry("empty kind", "", "gitea"),
		)

		Context("when a status file is corrupt", func() {
			DescribeTable("moves it aside, reports it, and starts clean",
				func(content string) {
					path := filepath.Join(dir, "status", "WarmCanonical", "gitea.json")
					Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
					Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())

					var got status
					found, err := s.Get("WarmCanonical", "gitea", &got)
					Expect(found).To(BeFalse())
					var ce *CorruptError
					Expect(errors.As(err, &ce)).To(BeTrue(), "want a *CorruptError, got %v", err)
					Expect(ce.Path).To(Equal(path))
					Expect(ce.MovedTo).To(Equal(path + ".corrupt"))
					Expect(err.Error()).To(ContainSubstring(path))
					Expect(os.ReadFile(path+".corrupt")).To(Equal([]byte(content)), "the bad content is kept for inspection")

					By("reading again: no status, no error")
					found, err = s.Get("WarmCanonical", "gitea", &got)
					Expect(err).NotTo(HaveOccurred())
					Expect(found).To(BeFalse())

					By("writing a new status over it")
					Expect(s.Put("WarmCanonical", "gitea", status{ObservedGeneration: "new"})).To(Succeed())
					Expect(s.Get("WarmCanonical", "gitea", &got)).To(BeTrue())
					Expect(got.ObservedGeneration).To(Equal("new"))
					Expect(s.List("WarmCanonical")).To(Equal([]string{"gitea"}), "a quarantined file is not listed")
				},
				Entry("truncated JSON", `{"observedGeneration": "ab`),
				Entry("empty file", ``),
				Entry("two documents glued", `{"observedGeneration":"a"}{"observedGeneration":"b"}`),
				Entry("binary garbage", "\x00\x01\xff\xfe"),
				Entry("wrong shape", `["not", "an", "object"]`),
			)
		})

		It("removes temporary files left by killed writers once they are stale", func() {
			stale := filepath.Join(dir, "status", "RecipeTest", ".a.json.tmp-123")
			fresh := filepath.Join(dir, "status", "RecipeTest", ".b.json.tmp-456")
			Expect(os.MkdirAll(filepath.Dir(stale), 0o755)).To(Succeed())
			Expect(os.WriteFile(stale, []byte("{"), 0o644)).To(Succeed())
			Expect(os.WriteFile(fresh, []byte("{"), 0o644)).To(Succeed())
			old := time.Now().Add(-2 * staleTempAge)
			Expect(os.Chtimes(stale, old, old)).To(Succeed())
			_, err := Open(dir)
			Expect(err).NotTo(HaveOccurred())
			Expect(stale).NotTo(BeAnExistingFile())
			Expect(fresh).To(BeAnExistingFile(), "a live writer may still own it")
		})
	})

	Describe("run history", func() {
		type run struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
		}

		It("keeps the newest runs with their logs, newest first, and prunes the rest", func() {
			var dirs []string
			for _, id := range []string{"r1", "r2", "r3", "r4", "r5"} {
				d, err := s.RunDir("gitea", id)
				Expect(err).NotTo(HaveOccurred())
				Expect(os.WriteFile(filepath.Join(d, "install.log"), []byte("log of "+id), 0o644)).To(Succeed())
				Expect(s.PutRun("gitea", id, run{ID: id, Verdict: "Running"})).To(Succeed())
				Expect(s.PutRun("gitea", id, run{ID: id, Verdict: "Passed"})).To(Succeed())
				dirs = append(dirs, d)
			}
			raws, err := s.Runs("gitea")
			Expect(err).NotTo(HaveOccurred())
			var ids []string
			for _, raw := range raws {
				var r run
				Expect(json.Unmarshal(raw, &r)).To(Succeed())
				Expect(r.Verdict).To(Equal("Passed"))
				ids = append(ids, r.ID)
			}
			Expect(ids).To(Equal([]string{"r5", "r4", "r3"}))
			Expect(dirs[0]).NotTo(BeADirectory())
			Expect(dirs[1]).NotTo(BeADirectory())
			Expect(filepath.Join(dirs[2], "install.log")).To(BeARegularFile())

			By("finding an existing run's directory again")
			Expect(s.RunDir("gitea", "r4")).To(Equal(dirs[3]))
		})

		It("bounds what it returns even when another process keeps a longer history", func() {
			long, err := Open(dir, WithRunHistory(10))
			Expect(err).NotTo(HaveOccurred())
			for _, id := range []string{"r1", "r2", "r3", "r4", "r5"} {
				Expect(long.PutRun("gitea", id, run{ID: id})).To(Succeed())
			}
			Expect(long.Runs("gitea")).To(HaveLen(5))
			raws, err := s.Runs("gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(raws).To(HaveLen(3))
			Expect(string(raws[0])).To(ContainSubstring(`"r5"`))
		})

		It("leaves out runs whose record is not written yet", func() {
			_, err := s.RunDir("gitea", "started")
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Runs("gitea")).To(BeEmpty())
			Expect(s.Runs("never-ran")).To(BeEmpty())
		})

		It("returns the readable runs and reports a corrupt one", func() {
			Expect(s.PutRun("gitea", "good", run{ID: "good"})).To(Succeed())
			bad, err := s.RunDir("gitea", "bad")
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(bad, "run.json"), []byte("{"), 0o644)).To(Succeed())
			raws, err := s.Runs("gitea")
			var ce *CorruptError
			Expect(errors.As(err, &ce)).To(BeTrue())
			Expect(ce.MovedTo).To(Equal(filepath.Join(bad, "run.json.corrupt")))
			Expect(raws).To(HaveLen(1))
			Expect(string(raws[0])).To(ContainSubstring(`"good"`))
		})
	})

	Describe("locks", func() {
		It("excludes a second holder in the same process until released", func(ctx SpecContext) {
			unlock, err := s.Lock(ctx, "WarmCanonical", "gitea")
			Expect(err).NotTo(HaveOccurred())

			_, ok, err := s.TryLock("WarmCanonical", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeFalse())

			By("a Lock that gives up when its context ends")
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err = s.Lock(short, "WarmCanonical", "gitea")
			Expect(err).To(MatchError(context.DeadlineExceeded))

			By("another object's lock being independent")
			other, ok, err := s.TryLock("WarmCanonical", "other")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeTrue())
			Expect(other()).To(Succeed())

			By("a waiting Lock that gets it once released")
			got := make(chan error, 1)
			go func() {
				u, err := s.Lock(ctx, "WarmCanonical", "gitea")
				if err == nil {
					err = u()
				}
				got <- err
			}()
			Consistently(got).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).ShouldNot(Receive())
			Expect(unlock()).To(Succeed())
			Expect(unlock()).To(Succeed(), "unlocking twice is harmless")
			Eventually(got).WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(BeNil()))
		}, NodeTimeout(10*time.Second))

		// A no-op sweep takes every object's lock: a write per lock (ext4 journals a
		// truncate) was the larger part of its time.
		It("writes nothing into a lock file it takes again", func(ctx SpecContext) {
			unlock, err := s.Lock(ctx, "WarmCanonical", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(unlock()).To(Succeed())
			path := filepath.Join(s.Dir(), "locks", "WarmCanonical", "gitea.lock")
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			Expect(os.Chtimes(path, old, old)).To(Succeed())

			unlock, err = s.Lock(ctx, "WarmCanonical", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(unlock()).To(Succeed())
			fi, err := os.Stat(path)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Size()).To(BeZero())
			Expect(fi.ModTime()).To(Equal(old))
		}, NodeTimeout(10*time.Second))
	})
})
