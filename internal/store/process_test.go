package store

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// killRounds is how many times the kill test SIGKILLs a writer; CCCI_STORE_KILLS overrides it.
func killRounds() int {
	if n, err := strconv.Atoi(os.Getenv("CCCI_STORE_KILLS")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// startHelper starts cmd and returns its stdout lines as a channel closed at EOF.
func startHelper(cmd *exec.Cmd) <-chan string {
	GinkgoHelper()
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return lines
}

var _ = Describe("Store across processes", func() {
	var dir string

	BeforeEach(func() {
		dir = GinkgoT().TempDir()
	})

	Context("when a writer is killed at random points while rewriting a status", func() {
		It("always leaves a complete old or new document", func(ctx SpecContext) {
			rounds := killRounds()
			// Lanes run in parallel on separate objects to use both cores while the others
			// are in fork/exec.
			lanes := min(runtime.GOMAXPROCS(0)+1, 4)
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				failures []string
				reads    int
				written  int
			)
			fail := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, fmt.Sprintf(format, args...))
			}
			s, err := Open(dir)
			Expect(err).NotTo(HaveOccurred())
			for lane := range lanes {
				name := fmt.Sprintf("lane-%d", lane)
				wg.Go(func() {
					defer GinkgoRecover()
					last := make([]int, writersPerProcess) // newest seq known complete on disk, per object
					for round := lane; round < rounds; round += lanes {
						cmd := helperCommand("writer", helperDirEnv+"="+dir, helperNameEnv+"="+name)
						lines := startHelper(cmd)
						if l := <-lines; l != "ready" {
							fail("round %d: writer said %q instead of ready", round, l)
							_ = cmd.Process.Kill()
							_ = cmd.Wait()
							return
						}
						// Up to 8ms covers whole Puts even on a loaded machine, so kills land in every phase of one:
						// marshal, temp file write, fsync, rename, directory fsync.
						time.Sleep(time.Duration(rand.IntN(8000)) * time.Microsecond)
						Expect(cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
						_ = cmd.Wait()
						acked := slices.Clone(last)
						for l := range lines {
							var i, n int
							if _, err := fmt.Sscan(l, &i, &n); err != nil || i < 0 || i >= writersPerProcess {
								fail("round %d: writer printed %q", round, l)
								continue
							}
							acked[i] = n
						}
						for i := range last {
							obj := fmt.Sprintf("%s-%d", name, i)
							var d killDoc
							found, err := s.Get("RecipeTest", obj, &d)
							switch {
							case err != nil:
								fail("round %d: read %s after kill: %v", round, obj, err)
								return
							case !found && last[i] > 0:
								fail("round %d: status of %s vanished after seq %d", round, obj, last[i])
								return
							case !found:
								continue // killed before the first write completed
							case !d.complete():
								fail("round %d: torn document of %s with seq %d", round, obj, d.Seq)
								return
							case d.Seq != acked[i] && d.Seq != acked[i]+1:
								// acked was on disk (Put returned); acked+1 may have been renamed in
								// before the kill; anything else is neither the old nor the new one.
								fail("round %d: read %s seq %d, writer had acknowledged %d", round, obj, d.Seq, acked[i])
								return
							}
							mu.Lock()
							written += d.Seq - last[i]
							reads++
							mu.Unlock()
							last[i] = d.Seq
						}
					}
				})
			}
			wg.Wait()
			Expect(failures).To(BeEmpty())
			By(fmt.Sprintf("%d kills over %d lanes, %d writers each: %d checked reads, %d complete writes", rounds, lanes, writersPerProcess, reads, written))
			Expect(reads).To(BeNumerically(">=", rounds), "most kills must have hit a writer that had started writing")
			tmps, _ := filepath.Glob(filepath.Join(dir, "status", "RecipeTest", ".*"+tempMarker+"*"))
			GinkgoWriter.Printf("%d temporary files left by killed writers\n", len(tmps))
			// A guard, not a speed check: a thousand starts of this test binary took 140 s on
			// 2 cores beside the integration suites.
		}, NodeTimeout(5*time.Minute))
	})

	Context("when two processes contend for one object's lock", func() {
		It("lets them take turns, never both at once", func(ctx SpecContext) {
			const rounds = 40
			logPath := filepath.Join(dir, "turns.log")
			env := []string{helperDirEnv + "=" + dir, helperNameEnv + "=gitea", helperRoundsEnv + "=" + strconv.Itoa(rounds), helperLogEnv + "=" + logPath}
			a, b := helperCommand("locker", env...), helperCommand("locker", env...)
			a.Stdout, a.Stderr, b.Stdout, b.Stderr = GinkgoWriter, GinkgoWriter, GinkgoWriter, GinkgoWriter
			Expect(a.Start()).To(Succeed())
			Expect(b.Start()).To(Succeed())
			Expect(a.Wait()).To(Succeed())
			Expect(b.Wait()).To(Succeed())

			data, err := os.ReadFile(logPath)
			Expect(err).NotTo(HaveOccurred())
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			Expect(lines).To(HaveLen(4 * rounds))
			holders := map[string]int{}
			switches := 0
			prev := ""
			for i := 0; i < len(lines); i += 2 {
				start, end := strings.Fields(lines[i]), strings.Fields(lines[i+1])
				Expect(start[0]).To(Equal("start"), "line %d", i)
				Expect(end).To(Equal([]string{"end", start[1]}), "line %d: a second holder got in while %s held the lock", i+1, start[1])
				holders[start[1]]++
				if prev != "" && prev != start[1] {
					switches++
				}
				prev = start[1]
			}
			Expect(holders).To(HaveLen(2))
			Expect(switches).To(BeNumerically(">=", 2), "the processes must alternate, not run one after the other")
		}, NodeTimeout(60*time.Second))
	})

	Context("when the process holding a lock dies", func() {
		It("frees the lock", func(ctx SpecContext) {
			s, err := Open(dir)
			Expect(err).NotTo(HaveOccurred())
			holder := helperCommand("holder", helperDirEnv+"="+dir, helperNameEnv+"=gitea")
			lines := startHelper(holder)
			Eventually(lines).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(Receive(Equal("locked")))
			_, ok, err := s.TryLock("RecipeTest", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeFalse(), "the live holder must exclude us")

			Expect(holder.Process.Signal(syscall.SIGKILL)).To(Succeed())
			_ = holder.Wait()
			unlock, ok, err := s.TryLock("RecipeTest", "gitea")
			Expect(err).NotTo(HaveOccurred())
			Expect(ok).To(BeTrue())
			Expect(unlock()).To(Succeed())
		}, NodeTimeout(30*time.Second))
	})
})
