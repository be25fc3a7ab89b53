package packaging_test

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// flakeEval is what flake.nix exposes, as testdata/eval-flake.nix prints it.
type flakeEval struct {
	Systems []string `json:"systems"`
	Package struct {
		Pname       string `json:"pname"`
		Version     string `json:"version"`
		SameAsNamed bool   `json:"sameAsNamed"`
	} `json:"package"`
	Module struct {
		Imports        []string `json:"imports"`
		PackageDefault string   `json:"packageDefault"`
	} `json:"module"`
	ChecksBuildPackage bool     `json:"checksBuildPackage"`
	DevShell           []string `json:"devShell"`
	RuntimeTools       []string `json:"runtimeTools"`
}

var _ = Describe("flake.nix", func() {
	var flake *flakeEval
	BeforeEach(func(ctx SpecContext) {
		nixEval(ctx, &flake, "eval-flake.nix", "--arg", "flake", filepath.Join(root, "flake.nix"))
		Expect(flake).NotTo(BeNil())
	}, NodeTimeout(time.Minute))

	It("exposes the package for x86_64 and aarch64 Linux, versioned by the flake's revision", func() {
		Expect(flake.Systems).To(ConsistOf("x86_64-linux", "aarch64-linux"))
		Expect(flake.Package.Pname).To(Equal("ccci-controller"))
		Expect(flake.Package.Version).To(Equal("0.1.0+abc1234"))
		Expect(flake.Package.SameAsNamed).To(BeTrue(), "packages.<system>.default is not packages.<system>.ccci-controller")
		Expect(flake.ChecksBuildPackage).To(BeTrue(), "nix flake check does not build the package")
	})

	It("exposes the NixOS module, defaulting to the flake's own package", func() {
		Expect(flake.Module.Imports).To(ConsistOf(filepath.Join(root, "nix", "module.nix")))
		Expect(flake.Module.PackageDefault).To(Equal("ccci-controller"))
	})

	It("gives the dev shell Go and exactly the package's run-time tools", func() {
		Expect(flake.DevShell).To(ContainElement("go"))
		Expect(flake.DevShell).To(ContainElements(flake.RuntimeTools))
		Expect(flake.RuntimeTools).To(ContainElements("docker-client", "git"))
	})
})
