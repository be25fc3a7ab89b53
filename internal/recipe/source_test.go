package recipe_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
)

var _ = Describe("Source", func() {
	var (
		repo  *sampleRepo
		cache string
		opts  recipe.Options
	)

	BeforeEach(func() {
		repo = newSampleRepo(filepath.Join(GinkgoT().TempDir(), "sample"))
		cache = GinkgoT().TempDir()
		opts = recipe.Options{CacheDir: cache, FetchInterval: time.Hour}
	})

	open := func(ctx context.Context, url string) *recipe.Source {
		src, err := recipe.Open(ctx, "sample", url, opts)
		Expect(err).NotTo(HaveOccurred())
		return src
	}

	DescribeTable("lists release tags, oldest first, ignoring other tags",
		func(url func() string) {
			ctx := testContext()
			vs, err := open(ctx, url()).Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).To(Equal([]string{"1.0.0+1.0", "1.1.0+1.1", "2.0.0+2.0"}))
		},
		Entry("from a local path", func() string { return repo.dir }),
		Entry("from a file:// URL", func() string { return "file://" + repo.dir }),
		Entry("from a relative path", func() string {
			wd, err := os.Getwd()
			Expect(err).NotTo(HaveOccurred())
			rel, err := filepath.Rel(wd, repo.dir)
			Expect(err).NotTo(HaveOccurred())
			return rel
		}),
	)

	It("names the recipe in a version lookup error", func(ctx SpecContext) {
		_, err := open(ctx, repo.dir).Version(ctx, "3.6")
		Expect(err).To(MatchError(`"3.6" is not a version tag of recipe sample (newest: 2.0.0+2.0, 1.1.0+1.1, 1.0.0+1.0)`))
	}, NodeTimeout(30*time.Second))

	Describe("Resolve", func() {
		DescribeTable("resolves refs to commits",
			func(ref func() string, pr int, want func() string) {
				ctx := testContext()
				commit, err := open(ctx, repo.dir).Resolve(ctx, ref(), pr)
				Expect(err).NotTo(HaveOccurred())
				Expect(commit).To(Equal(want()))
			},
			Entry("an annotated tag", func() string { return "1.0.0+1.0" }, 0, func() string { return repo.v100 }),
			Entry("a lightweight tag", func() string { return "1.1.0+1.1" }, 0, func() string { return repo.v110 }),
			Entry("a tag that is not a release", func() string { return "latest" }, 0, func() string { return repo.v100 }),
			Entry("the default branch", func() string { return "main" }, 0, func() string { return repo.v200 }),
			Entry("a feature branch", func() string { return "feature" }, 0, func() string { return repo.feature }),
			Entry("a full commit id", func() string { return repo.v110 }, 0, func() string { return repo.v110 }),
			Entry("a short commit id", func() string { return repo.v110[:8] }, 0, func() string { return repo.v110 }),
			Entry("a commit of a pull request", func() string { return repo.pr7 }, 7, func() string { return repo.pr7 }),
			Entry("a short commit of a pull request", func() string { return repo.pr7[:10] }, 7, func() string { return repo.pr7 }),
			Entry("the head of a pull request", func() string { return "" }, 7, func() string { return repo.pr7 }),
			Entry("the head of a GitLab merge request", func() string { return "" }, 9, func() string { return repo.mr9 }),
			Entry("a branch although a pull request is given", func() string { return "feature" }, 7, func() string { return repo.feature }),
		)

		Context("when a commit is only in a pull request and no number is given", func() {
			It("says what it tried", func(ctx SpecContext) {
				_, err := open(ctx, repo.dir).Resolve(ctx, repo.pr7, 0)
				Expect(err).To(MatchError(ContainSubstring(`recipe sample: ref "` + repo.pr7 + `" is not a tag, branch or commit of ` + repo.dir)))
				Expect(err).To(MatchError(ContainSubstring("tried refs/tags/" + repo.pr7 + ", refs/heads/" + repo.pr7 + ", " + repo.pr7)))
			}, NodeTimeout(30*time.Second))
		})

		Context("when the ref is unknown", func() {
			It("names the recipe and the refs tried", func(ctx SpecContext) {
				_, err := open(ctx, repo.dir).Resolve(ctx, "nope", 0)
				Expect(err).To(MatchError(`recipe sample: ref "nope" is not a tag, branch or commit of ` + repo.dir + ` (tried refs/tags/nope, refs/heads/nope, nope); for a pull request's commit, pass its number (trigger --pr N)`))
			}, NodeTimeout(30*time.Second))

			It("names the pull request refs it could not fetch", func(ctx SpecContext) {
				_, err := open(ctx, repo.dir).Resolve(ctx, "nope", 8)
				Expect(err).To(MatchError(ContainSubstring(`recipe sample: ref "nope" not found`)))
				Expect(err).To(MatchError(ContainSubstring("pull request 8 could not be fetched")))
				Expect(err).To(MatchError(ContainSubstring("refs/pull/8/head")))
				Expect(err).To(MatchError(ContainSubstring("refs/merge-requests/8/head")))
			}, NodeTimeout(30*time.Second))

			It("rejects refs that would read as options", func(ctx SpecContext) {
				_, err := open(ctx, repo.dir).Resolve(ctx, "--all", 0)
				Expect(err).To(MatchError(`recipe sample: "--all" is not a valid ref`))
			}, NodeTimeout(30*time.Second))
		})

		Context("when a commit was pushed after the last fetch", func() {
			It("fetches again before giving up", func(ctx SpecContext) {
				src := open(ctx, repo.dir)
				fresh := repo.commit("feat: new", map[string]string{"new.txt": "1\n"})
				commit, err := src.Resolve(ctx, fresh, 0)
				Expect(err).NotTo(HaveOccurred())
				Expect(commit).To(Equal(fresh))
			}, NodeTimeout(30*time.Second))
		})
	})

	Describe("Fetch", func() {
		It("fetches at most once per interval unless forced", func(ctx SpecContext) {
			src := open(ctx, repo.dir)
			repo.commit("chore: publish 2.1.0+2.1", nil)
			repo.git("tag", "2.1.0+2.1")

			By("not seeing the new tag within the interval")
			vs, err := src.Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).NotTo(ContainElement("2.1.0+2.1"))

			By("not seeing it from a second source on the same cache either")
			vs, err = open(ctx, repo.dir).Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).NotTo(ContainElement("2.1.0+2.1"))

			By("seeing it after a forced fetch")
			Expect(src.Fetch(ctx, true)).To(Succeed())
			vs, err = src.Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).To(HaveLen(4))
			Expect(tagsOf(vs)[3]).To(Equal("2.1.0+2.1"))

			By("forgetting a tag deleted upstream")
			repo.git("tag", "-d", "2.1.0+2.1")
			Expect(src.Fetch(ctx, true)).To(Succeed())
			vs, err = src.Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).NotTo(ContainElement("2.1.0+2.1"))
		}, NodeTimeout(30*time.Second))

		Context("when several sources fetch into one cache at once", func() {
			It("serialises them and leaves a sound mirror", func(ctx SpecContext) {
				const n = 4
				srcs := make([]*recipe.Source, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				By("cloning from several sources into an empty cache")
				for i := range n {
					wg.Go(func() { srcs[i], errs[i] = recipe.Open(ctx, "sample", repo.dir, opts) })
				}
				wg.Wait()
				for i := range n {
					Expect(errs[i]).NotTo(HaveOccurred())
				}
				mirrors, err := filepath.Glob(filepath.Join(cache, "sample", "git", "*"))
				Expect(err).NotTo(HaveOccurred())
				Expect(mirrors).To(HaveLen(2), "one mirror and its lock file: %v", mirrors)

				By("fetching from all of them at once")
				repo.git("tag", "2.0.1+2.0.1")
				for i := range n {
					wg.Go(func() { errs[i] = srcs[i].Fetch(ctx, true) })
				}
				wg.Wait()
				for i := range n {
					Expect(errs[i]).NotTo(HaveOccurred())
					Expect(srcs[i].Stale()).To(Succeed())
				}
				vs, err := srcs[0].Versions(ctx)
				Expect(err).NotTo(HaveOccurred())
				Expect(tagsOf(vs)).To(Equal([]string{"1.0.0+1.0", "1.1.0+1.1", "2.0.0+2.0", "2.0.1+2.0.1"}))
			}, NodeTimeout(60*time.Second))
		})

		It("fetches on every call with a negative interval", func(ctx SpecContext) {
			opts.FetchInterval = -1
			src := open(ctx, repo.dir)
			repo.git("tag", "2.0.1+2.0.1")
			vs, err := src.Versions(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(tagsOf(vs)).To(Equal([]string{"1.0.0+1.0", "1.1.0+1.1", "2.0.0+2.0", "2.0.1+2.0.1"}))
		}, NodeTimeout(30*time.Second))

		Context("when the remote is gone", func() {
			It("falls back to the cache and says so", func(ctx SpecContext) {
				var log logSink
				ctx2 := log.context(ctx)
				src := open(ctx2, repo.dir)
				Expect(src.Stale()).To(Succeed())

				moved := repo.dir + ".moved"
				Expect(os.Rename(repo.dir, moved)).To(Succeed())
				Expect(src.Fetch(ctx2, true)).To(Succeed())
				Expect(src.Stale()).To(MatchError(ContainSubstring("fetch recipe sample from " + repo.dir)))
				Expect(log.String()).To(ContainSubstring(`"msg"="Fetch failed, using cached recipe" "recipe"="sample"`))

				By("still listing versions and resolving refs from the cache")
				vs, err := src.Versions(ctx2)
				Expect(err).NotTo(HaveOccurred())
				Expect(tagsOf(vs)).To(HaveLen(3))
				Expect(src.Resolve(ctx2, "feature", 0)).To(Equal(repo.feature))
				_, err = src.Resolve(ctx2, "pushed-later", 0)
				Expect(err).To(MatchError(ContainSubstring("the cached mirror may be out of date: fetch recipe sample from " + repo.dir)))

				By("telling another source on the same cache, within the interval, too")
				again, err := recipe.Open(ctx2, "sample", repo.dir, opts)
				Expect(err).NotTo(HaveOccurred())
				Expect(again.Stale()).To(MatchError(ContainSubstring("fetch recipe sample from " + repo.dir)))

				By("opening again from the cache")
				_, err = recipe.Open(ctx2, "sample", repo.dir, recipe.Options{CacheDir: cache, FetchInterval: -1})
				Expect(err).NotTo(HaveOccurred())

				By("recovering when the remote is back")
				Expect(os.Rename(moved, repo.dir)).To(Succeed())
				Expect(src.Fetch(ctx2, true)).To(Succeed())
				Expect(src.Stale()).To(Succeed())
			}, NodeTimeout(30*time.Second))

			It("tells a source that has fetched when another process's later fetch failed", func(ctx SpecContext) {
				src := open(ctx, repo.dir)
				Expect(src.Fetch(ctx, false)).To(Succeed())
				Expect(src.Stale()).To(Succeed())
				other, err := recipe.Open(ctx, "sample", repo.dir, opts)
				Expect(err).NotTo(HaveOccurred())

				Expect(os.Rename(repo.dir, repo.dir+".moved")).To(Succeed())
				DeferCleanup(os.Rename, repo.dir+".moved", repo.dir)
				Expect(other.Fetch(ctx, true)).To(Succeed())
				Expect(src.Fetch(ctx, false)).To(Succeed())
				Expect(src.Stale()).To(MatchError(ContainSubstring("fetch recipe sample from " + repo.dir)))
			}, NodeTimeout(30*time.Second))
		})
	})

	Context("when the remote hangs", func() {
		It("gives up after FetchTimeout", func(ctx SpecContext) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			var conns []net.Conn
			accepted := make(chan struct{})
			go func() {
				defer close(accepted)
				for {
					conn, err := l.Accept() // accept, then never answer
					if err != nil {
						return
					}
					conns = append(conns, conn)
				}
			}()
			DeferCleanup(func() {
				l.Close()
				<-accepted
				for _, c := range conns {
					c.Close()
				}
			})
			url := "git://" + l.Addr().String() + "/sample.git"
			opts.FetchTimeout = 300 * time.Millisecond
			_, err = recipe.Open(ctx, "sample", url, opts)
			Expect(err).To(MatchError(ContainSubstring("recipe sample: clone " + url)))
			// The cause, not a stopwatch: the fetch timeout ended it (the NodeTimeout is a
			// hundred times longer).
			Expect(err).To(MatchError(ContainSubstring("timeout 300ms")))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the repository does not exist", func() {
		It("names the recipe and the URL and leaves no half-made cache", func(ctx SpecContext) {
			missing := filepath.Join(GinkgoT().TempDir(), "gone")
			_, err := recipe.Open(ctx, "sample", missing, opts)
			Expect(err).To(MatchError(ContainSubstring("recipe sample: clone " + missing + ": git fetch")))
			matches, _ := filepath.Glob(filepath.Join(cache, "sample", "git", "*"))
			Expect(matches).To(ConsistOf(HaveSuffix(".lock")))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the repository has no version tags", func() {
		It("says so and shows the tags it has", func(ctx SpecContext) {
			o := newOrigin(filepath.Join(GinkgoT().TempDir(), "untagged"))
			o.commit("init", map[string]string{"compose.yml": composeV1})
			o.git("tag", "v1.0")
			src, err := recipe.Open(ctx, "untagged", o.dir, opts)
			Expect(err).NotTo(HaveOccurred())
			_, err = src.Versions(ctx)
			Expect(err).To(MatchError("recipe untagged (" + o.dir + ") has no version tags of the form MAJOR.MINOR.PATCH+UPSTREAM (tags seen: v1.0)"))
		}, NodeTimeout(30*time.Second))
	})

	Context("when the name or options are unusable", func() {
		DescribeTable("Open refuses",
			func(name, url, cacheDir, want string) {
				_, err := recipe.Open(testContext(), name, url, recipe.Options{CacheDir: cacheDir})
				Expect(err).To(MatchError(want))
			},
			Entry("a path as name", "../x", "/r", "/c", `open recipe "../x": name must be a single path element`),
			Entry("no URL", "x", "", "/c", "open recipe x: no repository URL or path given"),
			Entry("no cache", "x", "/r", "", "open recipe x: no cache directory given"),
		)
	})

	It("keeps mirrors of different URLs of one recipe apart", func(ctx SpecContext) {
		fork := newOrigin(filepath.Join(GinkgoT().TempDir(), "fork"))
		fork.commit("init", map[string]string{"compose.yml": composeV1})
		fork.git("tag", "9.0.0+fork")
		a, b := open(ctx, repo.dir), open(ctx, fork.dir)
		va, err := a.Versions(ctx)
		Expect(err).NotTo(HaveOccurred())
		vb, err := b.Versions(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(tagsOf(va)).NotTo(ContainElement("9.0.0+fork"))
		Expect(tagsOf(vb)).To(Equal([]string{"9.0.0+fork"}))
	}, NodeTimeout(30*time.Second))

	It("returns errors from a cancelled context instead of hanging", func(ctx SpecContext) {
		src := open(ctx, repo.dir)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		err := src.Fetch(cancelled, true)
		Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "got %v", err)
	}, NodeTimeout(30*time.Second))
})
