package tiers

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

// Layout of a run directory.
const (
	logsDir      = "logs"
	artifactsDir = "artifacts"
	runLogName   = "run"
)

// Modes of a run's directories and files (logs, backup archives): they hold what the test
// apps print and store, so only the controller's user may read them, as with every file of the
// state directory (internal/store's DirMode and FileMode).
const (
	privateDir  = 0o700
	privateFile = 0o600
)

// tierLog is the log file of one tier (or of the run's preparation and teardown): deploy steps,
// task errors, hook and command output, one timestamped line per event.
type tierLog struct {
	f   *os.File
	rel string // path relative to the run directory, as recorded in TierResult.LogFile
}

func openLog(runDir, name string) (*tierLog, error) {
	rel := filepath.Join(logsDir, name+".log")
	f, err := os.OpenFile(filepath.Join(runDir, rel), os.O_CREATE|os.O_WRONLY|os.O_APPEND, privateFile)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &tierLog{f: f, rel: rel}, nil
}

// Printf writes one timestamped line.
func (l *tierLog) Printf(format string, args ...any) {
	fmt.Fprintf(l.f, "%s %s\n", time.Now().UTC().Format("15:04:05.000"), secrets.Redact(fmt.Sprintf(format, args...)))
}

// Block writes multi-line output (a hook's stdout, say) under a heading, indented.
func (l *tierLog) Block(heading, text string) {
	if text == "" {
		return
	}
	l.Printf("%s:", heading)
	fmt.Fprint(l.f, secrets.Redact(indent(text)))
}

// Writer is where a host command's output goes, unbuffered, so a killed command's output up
// to the kill is kept.
func (l *tierLog) Writer() io.Writer { return secrets.Writer(l.f) }

func (l *tierLog) Close() error { return l.f.Close() }

func indent(s string) string {
	var out []byte
	start := true
	for i := 0; i < len(s); i++ {
		if start {
			out = append(out, "    "...)
		}
		out = append(out, s[i])
		start = s[i] == '\n'
	}
	if !start {
		out = append(out, '\n')
	}
	return string(out)
}
