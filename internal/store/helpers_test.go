package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Environment of the helper processes.
const (
	helperDirEnv    = "CCCI_STORE_DIR"
	helperNameEnv   = "CCCI_STORE_NAME"
	helperRoundsEnv = "CCCI_STORE_ROUNDS"
	helperLogEnv    = "CCCI_STORE_LOG"
)

// killDoc is the status the killed writer rewrites: its payload is large enough to span
// several pages, and Sum lets a reader tell a complete document from a torn one.
type killDoc struct {
	Seq     int    `json:"seq"`
	Payload string `json:"payload"`
	Sum     string `json:"sum"`
}

func newKillDoc(seq int) killDoc {
	payload := strings.Repeat(strconv.Itoa(seq)+",", 2000)
	sum := sha256.Sum256([]byte(payload))
	return killDoc{Seq: seq, Payload: payload, Sum: hex.EncodeToString(sum[:])}
}

// complete reports whether d is a whole document as written by newKillDoc.
func (d killDoc) complete() bool {
	want := newKillDoc(d.Seq)
	return d.Payload == want.Payload && d.Sum == want.Sum
}

// helperCommand returns a command that re-executes this test binary in mode.
func helperCommand(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStore$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	return cmd
}

// runHelper is the main function of a helper process; it returns the exit code.
func runHelper(mode string) int {
	s, err := Open(os.Getenv(helperDirEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	name := os.Getenv(helperNameEnv)
	switch mode {
	case "writer":
		err = writeForever(s, name)
	case "locker":
		err = lockInTurns(s, name)
	case "holder":
		err = holdLock(s, name)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// writersPerProcess is how many goroutines of one writer process rewrite statuses at once,
// each its own object "<name>-<i>", so one kill interrupts several writes.
const writersPerProcess = 3

// writeForever rewrites the statuses of RecipeTest/<name>-<i> with increasing sequence
// numbers, saying "ready" once it has read the current ones and printing "<i> <seq>" each time
// a Put returned, until it is killed.
func writeForever(s *Store, name string) error {
	start := make([]int, writersPerProcess)
	for i := range start {
		var d killDoc
		if _, err := s.Get("RecipeTest", fmt.Sprintf("%s-%d", name, i), &d); err != nil {
			return err
		}
		start[i] = d.Seq
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	errs := make(chan error, writersPerProcess)
	for i := range start {
		go func() {
			for seq := start[i] + 1; ; seq++ {
				if err := s.Put("RecipeTest", fmt.Sprintf("%s-%d", name, i), newKillDoc(seq)); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				fmt.Fprintln(out, i, seq)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	return <-errs
}

// lockInTurns takes the lock of RecipeTest/name rounds times, appending "start <pid>" and
// "end <pid>" to the shared log while holding it.
func lockInTurns(s *Store, name string) error {
	rounds, err := strconv.Atoi(os.Getenv(helperRoundsEnv))
	if err != nil {
		return err
	}
	log, err := os.OpenFile(os.Getenv(helperLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	pid := os.Getpid()
	for range rounds {
		unlock, err := s.Lock(context.Background(), "RecipeTest", name)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "start %d\n", pid)
		time.Sleep(2 * time.Millisecond)
		fmt.Fprintf(log, "end %d\n", pid)
		if err := unlock(); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond) // work outside the lock, giving the other a chance
	}
	return nil
}

// holdLock takes the lock of RecipeTest/name, says "locked", and waits to be killed.
func holdLock(s *Store, name string) error {
	if _, err := s.Lock(context.Background(), "RecipeTest", name); err != nil {
		return err
	}
	fmt.Println("locked")
	time.Sleep(time.Hour) // not select{}: with no other goroutine the runtime would call that a deadlock
	return nil
}
