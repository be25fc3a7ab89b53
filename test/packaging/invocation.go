package packaging

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Program is the name of the CLI whose invocations the deployment files are checked for.
const Program = "ccci-controller"

// Invocation is one call of the CLI found in a deployment file.
type Invocation struct {
	// Source names where the call was found, as "file:line" or "file (what)".
	Source string
	// Args are the arguments after the program name, variables already replaced by values.
	Args []string
}

// Subcommand returns the first argument, the subcommand the invocation runs.
func (i Invocation) Subcommand() string {
	if len(i.Args) == 0 {
		return ""
	}
	return i.Args[0]
}

// Flags returns the flag names (with their dashes, without "=value") the invocation passes.
func (i Invocation) Flags() []string {
	var flags []string
	for _, a := range i.Args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			name, _, _ := strings.Cut(a, "=")
			flags = append(flags, name)
		}
	}
	return flags
}

// String renders the invocation for failure messages.
func (i Invocation) String() string {
	return fmt.Sprintf("%s: %s %s", i.Source, Program, strings.Join(i.Args, " "))
}

// IsProgram reports whether word names the CLI, by name or by a path ending in it.
func IsProgram(word string) bool {
	return word == Program || (strings.Contains(word, "/") && path.Base(word) == Program)
}

// JoinContinuations joins lines that end in a backslash with the next one, as shells and
// systemd do, and returns the logical lines with the number of the physical line each starts on.
func JoinContinuations(text string) (lines []string, numbers []int) {
	var cur strings.Builder
	start := 0
	for n, line := range strings.Split(text, "\n") {
		if cur.Len() == 0 {
			start = n + 1
		}
		if trimmed := strings.TrimRight(line, " \t"); strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		numbers = append(numbers, start)
		cur.Reset()
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
		numbers = append(numbers, start)
	}
	return lines, numbers
}

// SplitWords splits a command line into words the way a POSIX shell does for quoting: single
// quotes keep everything, double quotes keep everything but backslash escapes, a backslash
// outside quotes escapes the next character. Variables are left as written.
func SplitWords(line string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// shellVariable matches $NAME and ${...} (with any default or other expansion inside).
var shellVariable = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// SubstituteShellVariables replaces every shell variable in a word by value.
func SubstituteShellVariables(word, value string) string {
	return shellVariable.ReplaceAllLiteralString(word, value)
}

// commandSeparators end a simple command inside a logical line.
var commandSeparators = map[string]bool{";": true, "&&": true, "||": true, "|": true, "&": true}

// assignment matches a leading VAR=value word of a simple command.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// wrapperOptionsWithValue are the options of command wrappers (sudo, env) that take the next
// word as their value, as in "sudo -u ccci-controller ccci-controller get".
var wrapperOptionsWithValue = map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-U": true}

// commandWord returns the index of the word a simple command runs: past a shell prompt ("$"),
// VAR=value assignments and the wrappers sudo, env, exec, nohup and time with their options.
// It returns -1 when nothing is left.
func commandWord(words []string) int {
	i := 0
	if i < len(words) && words[i] == "$" {
		i++
	}
	for i < len(words) {
		switch w := words[i]; {
		case assignment.MatchString(w):
			i++
		case w == "sudo" || w == "env":
			i++
			for i < len(words) && strings.HasPrefix(words[i], "-") {
				if wrapperOptionsWithValue[words[i]] {
					i++
				}
				i++
			}
		case w == "exec" || w == "nohup" || w == "time":
			i++
		default:
			return i
		}
	}
	return -1
}

// FindInvocations returns every call of the CLI in a shell script or a file of command lines:
// a simple command whose command word names the program, with its arguments up to the end of
// the logical line, a command separator or a comment. A path that merely ends in the program's
// name (an argument of install, go build -o, ...) is not a call. file and firstLine (the line
// text starts on in that file) name the source of each call. Shell variables in arguments are
// replaced by placeholder, since the checks only need values that parse.
func FindInvocations(file string, firstLine int, text, placeholder string) ([]Invocation, error) {
	var found []Invocation
	lines, numbers := JoinContinuations(text)
	for i, line := range lines {
		if !strings.Contains(line, Program) {
			continue
		}
		words, err := SplitWords(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, firstLine-1+numbers[i], err)
		}
		for _, command := range simpleCommands(words) {
			c := commandWord(command)
			if c < 0 || !IsProgram(command[c]) {
				continue
			}
			var args []string
			for _, a := range command[c+1:] {
				args = append(args, SubstituteShellVariables(a, placeholder))
			}
			found = append(found, Invocation{Source: fmt.Sprintf("%s:%d", file, firstLine-1+numbers[i]), Args: args})
		}
	}
	return found, nil
}

// simpleCommands cuts the words of a logical line at command separators and drops a trailing
// comment.
func simpleCommands(words []string) [][]string {
	var (
		commands [][]string
		cur      []string
	)
	for _, w := range words {
		if strings.HasPrefix(w, "#") {
			break
		}
		if commandSeparators[w] {
			commands = append(commands, cur)
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	return append(commands, cur)
}
