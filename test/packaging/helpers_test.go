package packaging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/packaging"
)

// requireTool returns the path of a tool the checks need and fails the spec, saying how to
// install it, when it is missing: a check that cannot run is not a check that passed.
func requireTool(name, install string) string {
	GinkgoHelper()
	p, err := exec.LookPath(name)
	if err != nil {
		Fail(fmt.Sprintf("%s is not on PATH: %s (.ci/run installs it)", name, install))
	}
	return p
}

func requireNix() string {
	GinkgoHelper()
	return requireTool("nix-instantiate", "install Debian's nix-bin (apt-get install nix-bin)")
}

// run runs a command and returns its combined output, with nix-bin's complaint about the
// missing nixbld group removed: Debian's nix-bin prints it on every call on hosts where nobody
// builds derivations, and nothing here builds one.
func run(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var kept []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "the group 'nixbld' specified in 'build-users-group' does not exist") {
			continue
		}
		kept = append(kept, line)
	}
	return strings.TrimSpace(strings.Join(kept, "\n")), err
}

// moduleConfig is the part of the NixOS configuration nix/module.nix produces that the specs read.
type moduleConfig struct {
	Assertions []struct {
		Assertion bool   `json:"assertion"`
		Message   string `json:"message"`
	} `json:"assertions"`
	Users struct {
		Users map[string]struct {
			Group        string `json:"group"`
			IsSystemUser bool   `json:"isSystemUser"`
		} `json:"users"`
	} `json:"users"`
	Systemd struct {
		Services map[string]packaging.Unit `json:"services"`
		Timers   map[string]packaging.Unit `json:"timers"`
	} `json:"systemd"`
}

// fakePackagePath is where testdata/eval-module.nix puts the package it pretends to have built.
const fakePackagePath = "/nix/store/00000000000000000000000000000000-ccci-controller"

// evalModule evaluates nix/module.nix with settings (services.ccci-controller values) through
// testdata/eval-module.nix. A nil result means the module configures nothing.
func evalModule(ctx context.Context, settings map[string]any) *moduleConfig {
	GinkgoHelper()
	js, err := json.Marshal(settings)
	Expect(err).NotTo(HaveOccurred())
	var cfg *moduleConfig
	nixEval(ctx, &cfg, "eval-module.nix", "--arg", "module", filepath.Join(root, "nix", "module.nix"), "--argstr", "settings", string(js))
	return cfg
}

// packageEval is what nix/package.nix hands to buildGoModule, as testdata/eval-package.nix
// prints it.
type packageEval struct {
	VendorHash  string            `json:"vendorHash"`
	SubPackages []string          `json:"subPackages"`
	Ldflags     []string          `json:"ldflags"`
	Env         map[string]string `json:"env"`
	PostInstall string            `json:"postInstall"`
	Meta        struct {
		MainProgram string `json:"mainProgram"`
	} `json:"meta"`
	RuntimeTools   []string        `json:"runtimeTools"`
	RuntimeBinPath string          `json:"runtimeBinPath"`
	SourceKeeps    map[string]bool `json:"sourceKeeps"`
}

// evalPackage evaluates nix/package.nix with version through testdata/eval-package.nix.
func evalPackage(ctx context.Context, version string) *packageEval {
	GinkgoHelper()
	var pkg *packageEval
	nixEval(ctx, &pkg, "eval-package.nix", "--arg", "package", filepath.Join(root, "nix", "package.nix"), "--argstr", "version", version)
	Expect(pkg).NotTo(BeNil())
	return pkg
}

// nixEval evaluates a testdata expression strictly and decodes its JSON into v.
func nixEval(ctx context.Context, v any, expr string, args ...string) {
	GinkgoHelper()
	nix := requireNix()
	full := append([]string{"--eval", "--strict", "--json", "--readonly-mode",
		filepath.Join(root, "test", "packaging", "testdata", expr)}, args...)
	out, err := exec.CommandContext(ctx, nix, full...).Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		Fail(fmt.Sprintf("nix-instantiate %s: %v\n%s", strings.Join(full, " "), err, exitErr.Stderr))
	}
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(out, v)).To(Succeed(), "%s printed %s", expr, out)
}

// execWords splits a unit's ExecStart= the way systemd does for quoting.
func execWords(cfg map[string]any) []string {
	GinkgoHelper()
	line, ok := cfg["ExecStart"].(string)
	Expect(ok).To(BeTrue(), "ExecStart is %v, want one command line", cfg["ExecStart"])
	words, err := packaging.SplitWords(line)
	Expect(err).NotTo(HaveOccurred())
	return words
}

// buildCLI builds ./cmd/ccci-controller into a temporary directory removed when the calling
// node's cleanup runs, and returns the binary's path.
func buildCLI(ctx context.Context) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	bin := filepath.Join(dir, packaging.Program)
	out, err := run(ctx, root, "go", "build", "-o", bin, "./cmd/ccci-controller")
	Expect(err).NotTo(HaveOccurred(), "go build ./cmd/ccci-controller:\n%s", out)
	return bin
}

// invocationProblems checks one call against the built CLI and returns what is wrong with it.
// The subcommand must answer --help; the whole argument list followed by --help must parse, so
// every flag is known to that subcommand and every value has the flag's type (a CLI parses the
// flags before it acts on --help).
func invocationProblems(ctx context.Context, bin string, inv packaging.Invocation, helped map[string]string) []string {
	sub := inv.Subcommand()
	if sub == "" || strings.HasPrefix(sub, "-") {
		return []string{fmt.Sprintf("%s\n    names no subcommand", inv)}
	}
	if problem, seen := helped[sub]; seen {
		if problem != "" {
			return []string{fmt.Sprintf("%s\n    %s", inv, problem)}
		}
	} else {
		helped[sub] = subcommandProblem(ctx, bin, sub)
		if helped[sub] != "" {
			return []string{fmt.Sprintf("%s\n    %s", inv, helped[sub])}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := run(cctx, os.TempDir(), bin, append(append([]string{}, inv.Args...), "--help")...)
	if err != nil {
		return []string{fmt.Sprintf("%s\n    is not accepted (flags %s): %v\n    %s", inv,
			strings.Join(inv.Flags(), " "), err, indent(out))}
	}
	return nil
}

func subcommandProblem(ctx context.Context, bin, sub string) string {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := run(cctx, os.TempDir(), bin, sub, "--help")
	switch {
	case err != nil:
		return fmt.Sprintf("subcommand %q does not exist in the CLI: `%s %s --help`: %v\n    %s",
			sub, packaging.Program, sub, err, indent(out))
	case !strings.Contains(out, sub):
		return fmt.Sprintf("subcommand %q does not exist in the CLI: its --help does not mention it:\n    %s",
			sub, indent(out))
	}
	return ""
}

func indent(s string) string {
	const max = 1500
	if len(s) > max {
		s = s[:max] + " …"
	}
	return strings.ReplaceAll(s, "\n", "\n    ")
}

// checkInvocations fails the spec listing every call the CLI does not accept.
func checkInvocations(ctx context.Context, bin string, invs []packaging.Invocation) {
	GinkgoHelper()
	helped := map[string]string{}
	var problems []string
	for _, inv := range invs {
		By("checking " + inv.String())
		problems = append(problems, invocationProblems(ctx, bin, inv, helped)...)
	}
	if len(problems) > 0 {
		Fail("calls the CLI does not accept:\n" + strings.Join(problems, "\n"))
	}
}

func readFile(rel string) string {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}
