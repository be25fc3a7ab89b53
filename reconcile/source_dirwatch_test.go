package reconcile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// parseLines is a trivial ParseFunc: each line "kind/name: value" of a .yaml file is a
// document whose digest is its value; lines starting with "#" are comments.
func parseLines(path string, data []byte) map[Request]string {
	if !strings.HasSuffix(path, ".yaml") {
		return nil
	}
	docs := map[Request]string{}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		kind, name, ok2 := strings.Cut(strings.TrimSpace(key), "/")
		if strings.HasPrefix(line, "#") || !ok || !ok2 {
			continue
		}
		docs[Request{Kind: kind, Name: name}] = strings.TrimSpace(value)
	}
	return docs
}

// recorder is an Enqueuer that remembers what was enqueued.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (r *recorder) Enqueue(req Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

func (r *recorder) EnqueueAfter(req Request, _ time.Duration) { r.Enqueue(req) }

// take returns and clears what was enqueued so far, as "kind/name" strings.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.reqs {
		out = append(out, req.String())
	}
	r.reqs = nil
	return out
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

var _ = Describe("DirWatch", func() {
	var (
		dir string
		rec *recorder
	)

	write := func(rel, content string) {
		path := filepath.Join(dir, rel)
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())
	}
	// expectEnqueued waits for exactly want (in any order) and then checks nothing else comes.
	expectEnqueued := func(want ...string) {
		GinkgoHelper()
		var got []string
		if len(want) > 0 {
			Eventually(rec.len).WithTimeout(3 * time.Second).WithPolling(10 * time.Millisecond).Should(BeNumerically(">=", len(want)))
		}
		Consistently(rec.len).WithTimeout(300 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(Equal(len(want)))
		got = rec.take()
		if len(want) == 0 {
			Expect(got).To(BeEmpty())
			return
		}
		Expect(got).To(ConsistOf(want))
	}

	BeforeEach(func(ctx SpecContext) {
		dir = GinkgoT().TempDir()
		rec = &recorder{}
		write("a.yaml", "RecipeTest/a: 1\nWarmCanonical/a: 1\n")
		write("nested/deeper/b.yaml", "RecipeTest/b: 1\n")
		write("README.md", "RecipeTest/readme: not a resource file\n")
		write(".git/config", "RecipeTest/git: hidden\n")
		wctx, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		w := &DirWatch{Dir: dir, Parse: parseLines}
		Expect(w.Start(wctx, rec)).To(Succeed())
		By("enqueueing every key of the tree on the initial load")
		Expect(rec.take()).To(ConsistOf("RecipeTest/a", "WarmCanonical/a", "RecipeTest/b"))
	}, NodeTimeout(10*time.Second))

	It("enqueues the keys of a created file", func(ctx SpecContext) {
		write("c.yaml", "RecipeTest/c: 1\n")
		expectEnqueued("RecipeTest/c")
	}, NodeTimeout(10*time.Second))

	It("enqueues only the changed key of a file edited in place", func(ctx SpecContext) {
		f, err := os.OpenFile(filepath.Join(dir, "a.yaml"), os.O_WRONLY|os.O_TRUNC, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteString("RecipeTest/a: 1\nWarmCanonical/a: 2\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		expectEnqueued("WarmCanonical/a")
	}, NodeTimeout(10*time.Second))

	It("enqueues nothing for an edit that changes no parsed document", func(ctx SpecContext) {
		write("a.yaml", "# a comment\nWarmCanonical/a:    1\n\nRecipeTest/a: 1\n")
		expectEnqueued()
	}, NodeTimeout(10*time.Second))

	It("follows a save by rename as vim does it", func(ctx SpecContext) {
		By("writing the swap file, moving the original to a backup, writing the new file, cleaning up")
		write(".a.yaml.swp", "swap")
		Expect(os.Rename(filepath.Join(dir, "a.yaml"), filepath.Join(dir, "a.yaml~"))).To(Succeed())
		write("a.yaml", "RecipeTest/a: 2\nWarmCanonical/a: 1\n")
		Expect(os.Remove(filepath.Join(dir, "a.yaml~"))).To(Succeed())
		Expect(os.Remove(filepath.Join(dir, ".a.yaml.swp"))).To(Succeed())
		expectEnqueued("RecipeTest/a")
	}, NodeTimeout(10*time.Second))

	It("follows a save by renaming a temporary file over the original", func(ctx SpecContext) {
		write(".a.yaml.tmp123", "RecipeTest/a: 1\nWarmCanonical/a: 3\n")
		Expect(os.Rename(filepath.Join(dir, ".a.yaml.tmp123"), filepath.Join(dir, "a.yaml"))).To(Succeed())
		expectEnqueued("WarmCanonical/a")
	}, NodeTimeout(10*time.Second))

	It("enqueues the keys of a deleted file so their reconcilers see them gone", func(ctx SpecContext) {
		Expect(os.Remove(filepath.Join(dir, "a.yaml"))).To(Succeed())
		expectEnqueued("RecipeTest/a", "WarmCanonical/a")
	}, NodeTimeout(10*time.Second))

	It("enqueues the keys under a deleted directory", func(ctx SpecContext) {
		Expect(os.RemoveAll(filepath.Join(dir, "nested"))).To(Succeed())
		expectEnqueued("RecipeTest/b")
	}, NodeTimeout(10*time.Second))

	It("watches subdirectories created after the start, and files written into them at once", func(ctx SpecContext) {
		write("new/x/y/d.yaml", "RecipeTest/d: 1\n")
		expectEnqueued("RecipeTest/d")
		By("editing the file in the new directory")
		write("new/x/y/d.yaml", "RecipeTest/d: 2\n")
		expectEnqueued("RecipeTest/d")
	}, NodeTimeout(10*time.Second))

	It("enqueues nothing when a document moves unchanged to another file", func(ctx SpecContext) {
		write("moved.yaml", "RecipeTest/b: 1\n")
		Expect(os.Remove(filepath.Join(dir, "nested/deeper/b.yaml"))).To(Succeed())
		expectEnqueued()
	}, NodeTimeout(10*time.Second))

	It("turns a burst of 100 writes to one file into one enqueue", func(ctx SpecContext) {
		for i := range 100 {
			write("a.yaml", fmt.Sprintf("RecipeTest/a: %d\nWarmCanonical/a: 1\n", i+2))
		}
		expectEnqueued("RecipeTest/a")
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("DirWatch of a symlinked directory", func() {
	It("watches the directory the link points to", func(ctx SpecContext) {
		real := GinkgoT().TempDir()
		link := filepath.Join(GinkgoT().TempDir(), "resources")
		Expect(os.Symlink(real, link)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(real, "a.yaml"), []byte("RecipeTest/a: 1\n"), 0o644)).To(Succeed())
		rec := &recorder{}
		Expect((&DirWatch{Dir: link, Parse: parseLines}).Start(ctx, rec)).To(Succeed())
		Expect(rec.take()).To(ConsistOf("RecipeTest/a"))
		Expect(os.WriteFile(filepath.Join(link, "a.yaml"), []byte("RecipeTest/a: 2\n"), 0o644)).To(Succeed())
		Eventually(rec.take).WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(ConsistOf("RecipeTest/a"))
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("Manager with a DirWatch", func() {
	It("is ready once the tree is loaded, reconciles every key, then each edited one", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("RecipeTest/a: 1\nWarmCanonical/a: 1\n"), 0o644)).To(Succeed())
		reconciled := make(chan string, 16)
		m := NewManager(Options{})
		for _, kind := range []string{"RecipeTest", "WarmCanonical"} {
			m.Register(kind, Func(func(_ context.Context, req Request) (Result, error) {
				reconciled <- req.String()
				return Result{}, nil
			}))
		}
		m.AddSource(&DirWatch{Dir: dir, Parse: parseLines})
		stop := startManager(ctx, m)
		defer stop()
		Eventually(m.Ready).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(BeTrue())
		var got []string
		for range 2 {
			var key string
			Eventually(reconciled).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive(&key))
			got = append(got, key)
		}
		Expect(got).To(ConsistOf("RecipeTest/a", "WarmCanonical/a"))

		Expect(os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("RecipeTest/a: 1\nWarmCanonical/a: 2\n"), 0o644)).To(Succeed())
		Eventually(reconciled).WithTimeout(2 * time.Second).WithPolling(5 * time.Millisecond).Should(Receive(Equal("WarmCanonical/a")))
		Consistently(reconciled).WithTimeout(300 * time.Millisecond).WithPolling(20 * time.Millisecond).ShouldNot(Receive())
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("Ticker", func() {
	It("enqueues the listed keys every interval", func(ctx SpecContext) {
		rec := &recorder{}
		clock := newFakeClock()
		t := Ticker{Interval: time.Minute, Jitter: 0.1, Clock: clock, List: func(context.Context) ([]Request, error) {
			return []Request{{Kind: "WarmCanonical", Name: "a"}, {Kind: "WarmCanonical", Name: "b"}}, nil
		}}
		Expect(t.Start(ctx, rec)).To(Succeed())
		Expect(rec.len()).To(BeZero())
		for range 3 {
			Eventually(clock.Pending).WithTimeout(time.Second).WithPolling(5 * time.Millisecond).Should(ConsistOf(
				And(BeNumerically(">", 54*time.Second), BeNumerically("<=", time.Minute))))
			clock.Advance(time.Minute)
			Eventually(rec.take).WithTimeout(time.Second).WithPolling(5 * time.Millisecond).Should(ConsistOf("WarmCanonical/a", "WarmCanonical/b"))
		}
	}, NodeTimeout(10*time.Second))

	It("refuses to start without an interval", func(ctx SpecContext) {
		Expect(Ticker{List: func(context.Context) ([]Request, error) { return nil, nil }}.Start(ctx, &recorder{})).NotTo(Succeed())
	})
})

var _ = Describe("Channel", func() {
	It("enqueues what it receives until the context ends", func(ctx SpecContext) {
		rec := &recorder{}
		c := make(chan Request)
		cctx, cancel := context.WithCancel(ctx)
		Expect(Channel{C: c}.Start(cctx, rec)).To(Succeed())
		c <- Request{Kind: "RecipeTest", Name: "gitea"}
		Eventually(rec.take).WithTimeout(time.Second).WithPolling(5 * time.Millisecond).Should(ConsistOf("RecipeTest/gitea"))
		cancel()
		Consistently(func() bool {
			select {
			case c <- Request{Kind: "RecipeTest", Name: "late"}:
				return true
			default:
				return false
			}
		}).WithTimeout(100 * time.Millisecond).WithPolling(10 * time.Millisecond).Should(BeFalse())
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("DirWatch over a git checkout", func() {
	It("enqueues exactly the objects that differ between the two commits, both ways", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		git := func(args ...string) {
			GinkgoHelper()
			cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), string(out))
		}
		write := func(rel, content string) {
			GinkgoHelper()
			Expect(os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644)).To(Succeed())
		}
		git("init", "-q", "-b", "main")
		for i := range 30 {
			write(fmt.Sprintf("apps/app%02d.yaml", i), fmt.Sprintf("WarmCanonical/app%02d: v1\nRecipeTest/app%02d: v1\n", i, i))
		}
		git("add", "-A")
		git("commit", "-q", "-m", "A")
		By("commit B: two edits, a removed file, a new file, a document moved unchanged, a comment-only edit")
		write("apps/app03.yaml", "WarmCanonical/app03: v2\nRecipeTest/app03: v1\n")
		write("apps/app04.yaml", "WarmCanonical/app04: v1\nRecipeTest/app04: v2\n")
		Expect(os.Remove(filepath.Join(dir, "apps/app05.yaml"))).To(Succeed())
		write("apps/new.yaml", "WarmCanonical/new: v1\n")
		write("apps/app06.yaml", "WarmCanonical/app06: v1\n")
		write("moved/app06.yaml", "RecipeTest/app06: v1\n")
		write("apps/app07.yaml", "# reformatted\nRecipeTest/app07:   v1\nWarmCanonical/app07: v1\n")
		git("add", "-A")
		git("commit", "-q", "-m", "B")
		git("checkout", "-q", "HEAD~1")

		rec := &recorder{}
		wctx, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		Expect((&DirWatch{Dir: dir, Parse: parseLines}).Start(wctx, rec)).To(Succeed())
		Expect(rec.take()).To(HaveLen(60))
		changed := []string{"WarmCanonical/app03", "RecipeTest/app04", "WarmCanonical/app05", "RecipeTest/app05", "WarmCanonical/new"}
		expect := func(want []string) {
			GinkgoHelper()
			Eventually(rec.len).WithTimeout(3 * time.Second).WithPolling(10 * time.Millisecond).Should(BeNumerically(">=", len(want)))
			Consistently(rec.len).WithTimeout(500 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(Equal(len(want)))
			Expect(rec.take()).To(ConsistOf(want))
		}
		By("checking out B")
		git("checkout", "-q", "main")
		expect(changed)
		By("checking out A again")
		git("checkout", "-q", "HEAD~1")
		expect(changed)
	}, NodeTimeout(30*time.Second))
})

var _ = Describe("DirWatch of a file that cannot be read", func() {
	It("enqueues the file's objects, so their reconcilers say so, and keeps its last content", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		path := filepath.Join(dir, "a.yaml")
		Expect(os.WriteFile(path, []byte("RecipeTest/a: 1\n"), 0o644)).To(Succeed())
		rec := &recorder{}
		wctx, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		Expect((&DirWatch{Dir: dir, Parse: parseLines}).Start(wctx, rec)).To(Succeed())
		Expect(rec.take()).To(ConsistOf("RecipeTest/a"))
		By("turning the file into a symbolic link to itself: unreadable, even for root")
		Expect(os.Remove(path)).To(Succeed())
		Expect(os.Symlink("a.yaml", path)).To(Succeed())
		Eventually(rec.take).WithTimeout(3 * time.Second).WithPolling(10 * time.Millisecond).Should(ContainElement("RecipeTest/a"))
		By("enqueueing nothing when the same content comes back: its last content stood")
		Expect(os.Remove(path)).To(Succeed())
		Expect(os.WriteFile(path+".new", []byte("RecipeTest/a: 1\n"), 0o644)).To(Succeed())
		Expect(os.Rename(path+".new", path)).To(Succeed())
		Consistently(rec.take).WithTimeout(time.Second).WithPolling(50 * time.Millisecond).Should(BeEmpty())
	}, NodeTimeout(10*time.Second))
})
