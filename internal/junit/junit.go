package junit

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// ContentType is the media type of the report, for HTTP answers.
const ContentType = "application/xml; charset=utf-8"

// TailLines is how many lines of a failed tier's log the report carries: enough to see why,
// few enough that a CI's test page stays readable.
const TailLines = 40

// tailBytes bounds the tail as well, for logs with very long lines.
const tailBytes = 8 << 10

// AbortedCase is the name of the testcase that carries the error of an Aborted run.
const AbortedCase = "run"

// Logs returns the log of one tier of the run, or nil when it has none. The caller reads it
// the way the API does, so the report shows what the dashboard shows.
type Logs func(tier v1.TierName) []byte

// testsuites is the root element: one suite, the run.
type testsuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Suites   []testsuite `xml:"testsuite"`
}

type testsuite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       string     `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr"`
	ID         string     `xml:"id,attr"`
	Properties []property `xml:"properties>property,omitempty"`
	Cases      []testcase `xml:"testcase"`
}

type property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type testcase struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *outcome `xml:"failure"`
	Error     *outcome `xml:"error"`
	Skipped   *outcome `xml:"skipped"`
}

// outcome is a failure, error or skipped element: a one-line message and, for failures and
// errors, the details as text.
type outcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",innerxml"` // escaped by newText
}

// newText escapes s as element content like chardata, but keeps its line breaks as they are,
// so a report read in a file or a CI's raw view shows the log lines as lines.
func newText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "&#xA;", "\n")
}

// Write writes run, a run of the RecipeTest recipeTest, as a JUnit report to w. logs gives the
// failed tiers' logs; nil means none.
func Write(w io.Writer, recipeTest string, run v1.Run, logs Logs) error {
	suite := testsuite{Name: suiteName(recipeTest, run), Timestamp: run.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		ID: run.ID, Time: seconds(runTime(run)), Properties: properties(run)}
	for _, t := range run.Tiers {
		c := testcase{Name: string(t.Name), Classname: recipeTest, Time: seconds(t.Duration.Duration)}
		switch t.Result {
		case v1.ResultFailed:
			o := &outcome{Message: oneLine(t.Reason), Type: string(t.Result), Text: newText(details(t.Reason, tierLog(logs, t.Name)))}
			if run.Verdict == v1.VerdictAborted {
				// A tier an aborted run cut short ("cancelled during restore") says nothing
				// about the recipe either: an error, not a failure.
				suite.Errors++
				o.Type = string(v1.VerdictAborted)
				c.Error = o
			} else {
				suite.Failures++
				c.Failure = o
			}
		case v1.ResultSkipped, v1.ResultNotApplicable:
			suite.Skipped++
			c.Skipped = &outcome{Message: oneLine(string(t.Result) + ": " + t.Reason)}
		}
		suite.Cases = append(suite.Cases, c)
	}
	if run.Verdict == v1.VerdictAborted || run.Verdict == v1.VerdictRunning {
		// Not a verdict on the recipe: an error, which CIs show apart from test failures, with
		// the run's own reason.
		suite.Errors++
		msg := run.Message
		if run.Verdict == v1.VerdictRunning {
			msg = "the run has not finished"
		}
		suite.Cases = append(suite.Cases, testcase{Name: AbortedCase, Classname: recipeTest, Time: seconds(runTime(run)),
			Error: &outcome{Message: oneLine(msg), Type: string(run.Verdict), Text: newText(msg)}})
	}
	suite.Tests = len(suite.Cases)
	doc := testsuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []testsuite{suite}}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit report of run %s: %w", run.ID, err)
	}
	buf.WriteString("\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// suiteName is "recipe ref", and the version the ref resolved to when it differs.
func suiteName(recipeTest string, run v1.Run) string {
	name := recipeTest
	if run.Ref != "" {
		name += " " + run.Ref
	}
	if run.Version != "" && run.Version != run.Ref {
		name += " (" + run.Version + ")"
	}
	return name
}

// properties are the run's facts a CI shows beside the tests.
func properties(run v1.Run) []property {
	var ps []property
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, property{Name: name, Value: value})
		}
	}
	add("ref", run.Ref)
	add("version", run.Version)
	add("commit", run.Commit)
	add("baseVersion", run.BaseVersion)
	add("trigger", string(run.Trigger))
	if run.PR > 0 {
		add("pr", fmt.Sprint(run.PR))
	}
	add("sourceRepo", run.SourceRepo)
	add("verdict", string(run.Verdict))
	return ps
}

func runTime(run v1.Run) time.Duration {
	if run.FinishedAt == nil || run.FinishedAt.Before(run.StartedAt) {
		return 0
	}
	return run.FinishedAt.Sub(run.StartedAt)
}

// seconds is the time attribute: seconds with three decimals, no exponent and no thousands
// separator, which every reader parses.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func tierLog(logs Logs, tier v1.TierName) []byte {
	if logs == nil {
		return nil
	}
	return logs(tier)
}

// details is the failure's text: the reason, then the tail of the tier's log.
func details(reason string, log []byte) string {
	tail := Tail(log, TailLines, tailBytes)
	if tail == "" {
		return reason
	}
	return reason + "\n\nlast lines of the log:\n" + tail
}

// Tail returns at most the last n lines of log, and at most max bytes of them, cut at a line
// start. (The XML encoder replaces what XML cannot carry, e.g. a terminal's escapes.)
func Tail(log []byte, n, max int) string {
	s := strings.TrimRight(string(log), "\n")
	if s == "" {
		return ""
	}
	if len(s) > max {
		s = s[len(s)-max:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}
