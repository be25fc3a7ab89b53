package packaging_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/packaging"
)

// placeholder stands for shell variables in the Drone script and the docs: a value that string
// and integer flags both parse. The check is that flags exist and parse, not what they are set to.
const placeholder = "1"

// credentialsDir stands for systemd's %d, the unit's credentials directory.
const credentialsDir = "/run/credentials/ccci-controller.service"

// moduleInvocations are the calls of the CLI in the units the NixOS module generates, with every
// option that adds a flag set.
func moduleInvocations(ctx SpecContext) []packaging.Invocation {
	GinkgoHelper()
	cfg := evalModule(ctx, map[string]any{
		"enable":       true,
		"resourcesDir": "/srv/ccci/resources",
		"tokenFile":    "/run/keys/ccci-token",
		"publicUrl":    "https://ci.example.org",
		// The option's documented example.
		"extraArgs": []string{"--sweep-interval", "10m", "--log-format", "json"},
	})
	Expect(cfg).NotTo(BeNil())
	var invs []packaging.Invocation
	for _, unit := range []string{"ccci-controller", "ccci-controller-sweep"} {
		words := execWords(cfg.Systemd.Services[unit].ServiceConfig)
		Expect(words[0]).To(Equal(exe), "systemd.services.%s ExecStart", unit)
		args, err := packaging.ExpandExecWords(words[1:], nil, map[string]string{"%d": credentialsDir})
		Expect(err).NotTo(HaveOccurred())
		invs = append(invs, packaging.Invocation{
			Source: fmt.Sprintf("nix/module.nix (systemd.services.%s ExecStart)", unit),
			Args:   args,
		})
	}
	return invs
}

// contribInvocations are the calls of the CLI in the ExecStart= lines of contrib/systemd, with
// the variables of the example environment file.
func contribInvocations() []packaging.Invocation {
	GinkgoHelper()
	env := packaging.ParseEnvFile(readFile("contrib/systemd/ccci-controller.env.example"))
	units, err := filepath.Glob(filepath.Join(root, "contrib", "systemd", "*.service"))
	Expect(err).NotTo(HaveOccurred())
	sort.Strings(units)
	var invs []packaging.Invocation
	for _, path := range units {
		rel, _ := filepath.Rel(root, path)
		for _, line := range packaging.UnitSettings(readFile(rel), "ExecStart") {
			words, err := packaging.SplitWords(line)
			Expect(err).NotTo(HaveOccurred(), rel)
			Expect(words[0]).To(Equal("/usr/local/bin/ccci-controller"), "%s: ExecStart", rel)
			args, err := packaging.ExpandExecWords(words[1:], env, map[string]string{"%d": credentialsDir})
			Expect(err).NotTo(HaveOccurred(), "%s: ExecStart with contrib/systemd/ccci-controller.env.example", rel)
			invs = append(invs, packaging.Invocation{Source: rel + " (ExecStart)", Args: args})
		}
	}
	return invs
}

func droneInvocations() []packaging.Invocation {
	GinkgoHelper()
	const file = "config/samples/drone/.drone.yml"
	scripts, err := packaging.DroneCommands([]byte(readFile(file)))
	Expect(err).NotTo(HaveOccurred(), file)
	var invs []packaging.Invocation
	for step, commands := range scripts {
		for i, script := range commands {
			found, err := packaging.FindInvocations(fmt.Sprintf("%s step %q script %d, line", file, step, i+1), 1, script, placeholder)
			Expect(err).NotTo(HaveOccurred())
			invs = append(invs, found...)
		}
	}
	return invs
}

func docsInvocations() []packaging.Invocation {
	GinkgoHelper()
	const file = "docs/deploy.md"
	var invs []packaging.Invocation
	for _, block := range packaging.MarkdownCode(readFile(file)) {
		found, err := packaging.FindInvocations(file, block.Line, block.Text, placeholder)
		Expect(err).NotTo(HaveOccurred())
		invs = append(invs, found...)
	}
	return invs
}

var _ = Describe("CLI calls in the deployment files", Ordered, ContinueOnFailure, func() {
	var cli string
	BeforeAll(func(ctx SpecContext) {
		By("building ./cmd/ccci-controller")
		cli = buildCLI(ctx)
	}, NodeTimeout(10*time.Minute))

	// Guards the specs below: a checker that accepted anything would pass them all.
	It("rejects an unknown subcommand and an unknown flag", func(ctx SpecContext) {
		helped := map[string]string{}
		Expect(invocationProblems(ctx, cli, packaging.Invocation{Source: "control", Args: []string{"version"}}, helped)).To(BeEmpty())
		Expect(invocationProblems(ctx, cli, packaging.Invocation{Source: "control", Args: []string{"no-such-command"}}, helped)).To(
			ConsistOf(ContainSubstring(`subcommand "no-such-command" does not exist`)))
		Expect(invocationProblems(ctx, cli, packaging.Invocation{Source: "control", Args: []string{"version", "--no-such-flag", "x"}}, helped)).To(
			ConsistOf(ContainSubstring("is not accepted (flags --no-such-flag)")))
	}, NodeTimeout(time.Minute))

	It("accepts every subcommand and flag the NixOS module runs", func(ctx SpecContext) {
		invs := moduleInvocations(ctx)
		Expect(invs).To(HaveLen(2))
		checkInvocations(ctx, cli, invs)
	}, NodeTimeout(2*time.Minute))

	It("accepts every subcommand and flag the contrib systemd units run", func(ctx SpecContext) {
		invs := contribInvocations()
		Expect(invs).To(ConsistOf(
			HaveField("Args", ContainElement("run")),
			HaveField("Args", ContainElement("sweep")),
		))
		checkInvocations(ctx, cli, invs)
	}, NodeTimeout(2*time.Minute))

	It("accepts the trigger the Drone sample runs, with ref, pull request, source, server and token", func(ctx SpecContext) {
		invs := droneInvocations()
		Expect(invs).To(HaveLen(1))
		Expect(invs[0].Subcommand()).To(Equal("trigger"))
		Expect(invs[0].Args[1]).To(Equal("recipetest/" + placeholder))
		Expect(invs[0].Flags()).To(ContainElements("--ref", "--pr", "--src", "--server", "--token-file"))
		checkInvocations(ctx, cli, invs)
	}, NodeTimeout(2*time.Minute))

	It("accepts every command docs/deploy.md shows", func(ctx SpecContext) {
		invs := docsInvocations()
		Expect(invs).NotTo(BeEmpty())
		checkInvocations(ctx, cli, invs)
	}, NodeTimeout(2*time.Minute))
})

var _ = Describe("The version the Nix package stamps", func() {
	It("reaches `ccci-controller version`", func(ctx SpecContext) {
		const version = "0.1.0+packaging"
		By("finding the -X flag nix/package.nix passes to the linker")
		var stamp string
		for _, f := range evalPackage(ctx, version).Ldflags {
			if strings.HasPrefix(f, "-X ") && strings.HasSuffix(f, "="+version) {
				stamp = f
			}
		}
		Expect(stamp).NotTo(BeEmpty(), "nix/package.nix: ldflags set no variable to the package version")

		By("linking with it, as buildGoModule does, and asking the binary")
		bin := filepath.Join(GinkgoT().TempDir(), packaging.Program)
		out, err := run(ctx, root, "go", "build", "-ldflags="+stamp, "-o", bin, "./cmd/ccci-controller")
		Expect(err).NotTo(HaveOccurred(), out)
		out, err = run(ctx, root, bin, "version")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(out).To(ContainSubstring(version))
	}, NodeTimeout(10*time.Minute))
})
