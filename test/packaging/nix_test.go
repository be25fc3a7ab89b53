package packaging_test

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// nixFiles returns every .nix file of the repository, relative to root.
func nixFiles() []string {
	GinkgoHelper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".nix") {
			rel, err := filepath.Rel(root, p)
			files = append(files, rel)
			return err
		}
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
	return files
}

var _ = Describe("Nix files", func() {
	It("all parse", func(ctx SpecContext) {
		nix := requireNix()
		files := nixFiles()
		Expect(files).To(ContainElements("flake.nix", "nix/package.nix", "nix/module.nix", "nix/runtime-env.nix"))
		var broken []string
		for _, f := range files {
			By("parsing " + f)
			if out, err := run(ctx, root, nix, "--parse", f); err != nil {
				broken = append(broken, f+": "+out)
			}
		}
		Expect(broken).To(BeEmpty(), "nix-instantiate --parse failed:\n%s", strings.Join(broken, "\n"))
	}, NodeTimeout(2*time.Minute))
})

var _ = Describe("nix/package.nix", func() {
	var pkg *packageEval
	BeforeEach(func(ctx SpecContext) {
		pkg = evalPackage(ctx, "0.1.0+packaging")
	}, NodeTimeout(time.Minute))

	It("pins the vendorHash of the current source", func(ctx SpecContext) {
		requireTool("nix", "install Debian's nix-bin (apt-get install nix-bin)")
		Expect(pkg.VendorHash).To(HavePrefix("sha256-"), "nix/package.nix: vendorHash is not an SRI sha256 hash")

		By("vendoring the module the way buildGoModule does and hashing the result")
		out, err := run(ctx, root, filepath.Join(root, "nix", "vendor-hash.sh"))
		Expect(err).NotTo(HaveOccurred(), "nix/vendor-hash.sh:\n%s", out)
		lines := strings.Split(out, "\n")
		want := lines[len(lines)-1]
		Expect(want).To(HavePrefix("sha256-"), "nix/vendor-hash.sh printed %q", out)
		Expect(pkg.VendorHash).To(Equal(want),
			"nix/package.nix: vendorHash is stale (go.mod/go.sum or the set of imported packages changed); run `nix/vendor-hash.sh --write` and commit nix/package.nix")
	}, NodeTimeout(5*time.Minute))

	It("builds only the CLI, without cgo, stamped with the version it is given", func() {
		Expect(pkg.SubPackages).To(Equal([]string{"cmd/ccci-controller"}))
		Expect(pkg.Env).To(HaveKeyWithValue("CGO_ENABLED", "0"))
		Expect(pkg.Ldflags).To(ContainElement("-X main.version=0.1.0+packaging"))
		Expect(pkg.Meta.MainProgram).To(Equal("ccci-controller"))
	})

	It("puts every tool of runtime-env.nix, and only those, first on the binary's PATH", func() {
		Expect(pkg.RuntimeTools).To(ContainElements(
			"docker-client", "git", "git-lfs", "openssl", "coreutils", "bash", "curl", "jq", "openssh"))
		Expect(pkg.PostInstall).To(MatchRegexp(`wrapProgram \$out/bin/ccci-controller\s*\\\s*--prefix PATH : %s\s*$`,
			regexp.QuoteMeta(pkg.RuntimeBinPath)))
	})

	It("builds from the Go source alone, so editing deployment files does not rebuild it", func() {
		Expect(pkg.SourceKeeps).To(Equal(map[string]bool{
			"cmd": true, "internal": true, "test": true, "go.mod": true,
			"nix": false, "contrib": false, "docs": false, "flake.nix": false, ".ci": false,
		}))
	})

	It("is the only file that takes the run-time tools: no other Nix file lists its own", func() {
		// A unit or shell with a PATH of its own is how the replaced harness drifted: git-lfs was on
		// one entry point's list and not another's.
		for _, f := range []string{"nix/module.nix", "flake.nix"} {
			text := readFile(f)
			Expect(text).NotTo(MatchRegexp(`(?m)^\s*path\s*=`), "%s sets a unit path; take tools from nix/runtime-env.nix through the package", f)
			Expect(text).NotTo(MatchRegexp(`pkgs\.(git|git-lfs|docker|docker-client|openssl|curl|jq|bash|coreutils)\b`),
				"%s names a run-time tool; add it to nix/runtime-env.nix instead", f)
		}
		Expect(readFile("flake.nix")).To(ContainSubstring("ccci-controller.runtimeEnv"), "the dev shell must use the package's run-time tools")
		Expect(readFile("nix/runtime-env.nix")).To(ContainSubstring("git-lfs"))
	})
})
