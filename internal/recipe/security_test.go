package recipe_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/test/hostile"
)

// secretLine stands for the daemon's age identity, the host file the hostile recipes aim at.
const secretLine = "AGE-SECRET-KEY-1PLANTEDHOSTSECRETQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"

var _ = Describe("Hostile recipe trees", func() {
	var (
		host   string // stands for the host outside the cache
		secret string // a host file holding secretLine
		cache  string
	)

	BeforeEach(func() {
		host = GinkgoT().TempDir()
		secret = filepath.Join(host, "age.key")
		Expect(os.WriteFile(secret, []byte(secretLine+"\n"), 0o600)).To(Succeed())
		cache = GinkgoT().TempDir()
	})

	// open opens the repository as recipe "evil" and resolves its tag.
	open := func(ctx context.Context, repo *hostile.Repo) (*recipe.Source, string) {
		src, err := recipe.Open(ctx, "evil", repo.Dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		commit, err := src.Resolve(ctx, hostile.Tag, 0)
		Expect(err).NotTo(HaveOccurred())
		return src, commit
	}

	// expectNoTree checks that the cache holds no tree (nor half-made tree) of any commit.
	expectNoTree := func() {
		entries, err := os.ReadDir(filepath.Join(cache, "evil", "trees"))
		Expect(err).NotTo(HaveOccurred())
		for _, e := range entries {
			Expect(e.IsDir()).To(BeFalse(), "tree %s left in the cache", e.Name())
		}
	}

	// expectQuiet checks that an error quotes neither the host file's path nor a byte of it.
	expectQuiet := func(err error) {
		Expect(err.Error()).NotTo(ContainSubstring(host))
		Expect(err.Error()).NotTo(ContainSubstring("AGE-SECRET-KEY"))
	}

	DescribeTable("refuses a symbolic link leaving the checkout, naming the entry and the commit, never the target",
		func(ctx SpecContext, build func(dir, hostFile string) (*hostile.Repo, error), entry string) {
			repo, err := build(filepath.Join(GinkgoT().TempDir(), "evil"), secret)
			Expect(err).NotTo(HaveOccurred())
			src, commit := open(ctx, repo)
			co, err := src.Checkout(ctx, commit)
			Expect(err).To(HaveOccurred())
			Expect(co).To(BeNil())
			var unsafe *recipe.UnsafeEntryError
			Expect(errors.As(err, &unsafe)).To(BeTrue(), "%v", err)
			Expect(unsafe.Entry).To(Equal(entry))
			Expect(err.Error()).To(ContainSubstring(commit))
			Expect(err.Error()).To(ContainSubstring(`"` + entry + `"`))
			expectQuiet(err)
			expectNoTree()
		},
		Entry("an .env.sample linking to a host file", hostile.EnvSampleLink, ".env.sample", NodeTimeout(30*time.Second)),
		Entry("a compose.yml linking to a host file", hostile.ComposeLink, "compose.yml", NodeTimeout(30*time.Second)),
		Entry("a relative link climbing out of the cache", hostile.ClimbingLink, ".env.sample", NodeTimeout(30*time.Second)),
	)

	It("refuses a tree with a .git directory, at the fetch and at the unpacker", func(ctx SpecContext) {
		repo, err := hostile.DotGit(filepath.Join(GinkgoT().TempDir(), "evil"))
		Expect(err).NotTo(HaveOccurred())
		_, err = recipe.Open(ctx, "evil", repo.Dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
		Expect(err).To(MatchError(ContainSubstring("hasDotgit")))

		By("refusing it in an archive stream too")
		dir := GinkgoT().TempDir()
		err = recipe.Untar(bytes.NewReader(hostile.DotGitArchive()), dir)
		var unsafe *recipe.UnsafeEntryError
		Expect(errors.As(err, &unsafe)).To(BeTrue(), "%v", err)
		Expect(unsafe.Entry).To(Equal(".git"))
		Expect(filepath.Join(dir, ".git")).NotTo(BeAnExistingFile())
	}, NodeTimeout(30*time.Second))

	Context("when a tree writes through its own symbolic link", func() {
		It("never lets the objects into the mirror, and writes nothing outside the cache", func(ctx SpecContext) {
			repo, err := hostile.WriteThroughLink(filepath.Join(GinkgoT().TempDir(), "evil"), host, "pwned", "x")
			Expect(err).NotTo(HaveOccurred())
			_, err = recipe.Open(ctx, "evil", repo.Dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
			Expect(err).To(MatchError(ContainSubstring("duplicateEntries")))
			Expect(filepath.Join(host, "pwned")).NotTo(BeAnExistingFile())
		}, NodeTimeout(30*time.Second))

		It("refuses the entry below the link when the stream gets to the unpacker anyway", func() {
			dir := GinkgoT().TempDir()
			err := recipe.Untar(bytes.NewReader(hostile.SymlinkThenDirArchive(host, "pwned", "x")), dir)
			var unsafe *recipe.UnsafeEntryError
			Expect(errors.As(err, &unsafe)).To(BeTrue(), "%v", err)
			Expect(unsafe.Entry).To(Equal("a"), "the absolute link itself is refused first")
			Expect(filepath.Join(host, "pwned")).NotTo(BeAnExistingFile())
			expectQuiet(err)
		})

		It("refuses the very stream git archive makes of such a tree", func() {
			repo, err := hostile.WriteThroughLink(filepath.Join(GinkgoT().TempDir(), "evil"), host, "pwned", "x")
			Expect(err).NotTo(HaveOccurred())
			out, err := exec.Command("git", "--git-dir", repo.Dir, "archive", "--format=tar", "main").Output()
			Expect(err).NotTo(HaveOccurred())
			err = recipe.Untar(bytes.NewReader(out), GinkgoT().TempDir())
			Expect(err).To(MatchError(ContainSubstring(`tree entry "a" is a symbolic link to a path outside the checkout`)))
			Expect(filepath.Join(host, "pwned")).NotTo(BeAnExistingFile())
		})

		It("refuses an entry below a link that stays inside", func() {
			dir := GinkgoT().TempDir()
			Expect(os.Mkdir(filepath.Join(dir, "sub"), 0o755)).To(Succeed())
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			Expect(tw.WriteHeader(&tar.Header{Name: "b", Typeflag: tar.TypeSymlink, Linkname: "sub"})).To(Succeed())
			Expect(tw.WriteHeader(&tar.Header{Name: "b/x", Typeflag: tar.TypeReg, Mode: 0o644})).To(Succeed())
			Expect(tw.Close()).To(Succeed())
			err := recipe.Untar(&buf, dir)
			Expect(err).To(MatchError(`tree entry "b/x" lies below the symbolic link "b"; refused`))
			Expect(filepath.Join(dir, "sub", "x")).NotTo(BeAnExistingFile())
		})
	})

	It("refuses the tree that would write $HOME/.gitconfig, and the file never appears", func(ctx SpecContext) {
		home := GinkgoT().TempDir()
		marker := filepath.Join(host, "ran")
		repo, err := hostile.GitconfigWriter(filepath.Join(GinkgoT().TempDir(), "evil"), home, "/", marker)
		Expect(err).NotTo(HaveOccurred())
		GinkgoT().Setenv("HOME", home)
		_, err = recipe.Open(ctx, "evil", repo.Dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
		Expect(err).To(HaveOccurred())
		Expect(filepath.Join(home, ".gitconfig")).NotTo(BeAnExistingFile())
		Expect(marker).NotTo(BeAnExistingFile())
	}, NodeTimeout(30*time.Second))

	It("refuses a tree with duplicate entries", func(ctx SpecContext) {
		repo, err := hostile.DuplicateEntries(filepath.Join(GinkgoT().TempDir(), "evil"))
		Expect(err).NotTo(HaveOccurred())
		_, err = recipe.Open(ctx, "evil", repo.Dir, recipe.Options{CacheDir: cache, FetchInterval: time.Hour})
		Expect(err).To(MatchError(ContainSubstring("duplicateEntries")))
	}, NodeTimeout(30*time.Second))

	DescribeTable("refuses devices, FIFOs and hard links in an archive stream",
		func(typeflag byte, reason string) {
			dir := GinkgoT().TempDir()
			err := recipe.Untar(bytes.NewReader(hostile.SpecialFileArchive("dev", typeflag)), dir)
			Expect(err).To(MatchError(`tree entry "dev" ` + reason + `; refused`))
			Expect(filepath.Join(dir, "dev")).NotTo(BeAnExistingFile())
		},
		Entry("a character device", byte(tar.TypeChar), "is a device"),
		Entry("a block device", byte(tar.TypeBlock), "is a device"),
		Entry("a FIFO", byte(tar.TypeFifo), "is a FIFO"),
		Entry("a hard link", byte(tar.TypeLink), "is a hard link"),
	)

	Context("when a tree already in the cache has a link leaving it", func() {
		// Trees extracted before checkouts refused such links stay in the cache until unused.
		It("reads none of the target, and says so without quoting it", func() {
			dir := GinkgoT().TempDir()
			Expect(os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(hostile.Compose), 0o644)).To(Succeed())
			Expect(os.Symlink(secret, filepath.Join(dir, recipe.EnvSampleFile))).To(Succeed())
			_, err := recipe.ReadContents(dir, nil, "")
			Expect(err).To(MatchError(ContainSubstring("path escapes from parent")))
			expectQuiet(err)

			By("reading a compose file that links out neither")
			Expect(os.Remove(filepath.Join(dir, recipe.EnvSampleFile))).To(Succeed())
			Expect(os.Remove(filepath.Join(dir, "compose.yml"))).To(Succeed())
			Expect(os.Symlink(secret, filepath.Join(dir, "compose.yml"))).To(Succeed())
			_, err = recipe.ReadContents(dir, nil, "")
			Expect(err).To(MatchError(ContainSubstring("path escapes from parent")))
			expectQuiet(err)
		})
	})
})

var _ = Describe("Git", func() {
	It("reads no configuration of the machine: a planted ~/.gitconfig runs no command", func(ctx SpecContext) {
		repo, err := newSampleRepoE(filepath.Join(GinkgoT().TempDir(), "sample"))
		Expect(err).NotTo(HaveOccurred())
		home, marker := GinkgoT().TempDir(), filepath.Join(GinkgoT().TempDir(), "ran")
		evil := hostile.GitconfigCommand(repo, marker)
		Expect(os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(evil), 0o644)).To(Succeed())
		Expect(os.MkdirAll(filepath.Join(home, "xdg", "git"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(home, "xdg", "git", "config"), []byte(evil), 0o644)).To(Succeed())
		GinkgoT().Setenv("HOME", home)
		GinkgoT().Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
		GinkgoT().Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
		GinkgoT().Setenv("GIT_CONFIG_PARAMETERS", "'protocol.ext.allow'='always'")

		By("checking that plain git with this environment does run it")
		_ = exec.CommandContext(ctx, "git", "ls-remote", "--", repo).Run()
		Expect(marker).To(BeAnExistingFile())
		Expect(os.Remove(marker)).To(Succeed())

		By("cloning, fetching and resolving through the recipe source")
		src, err := recipe.Open(ctx, "sample", repo, recipe.Options{CacheDir: GinkgoT().TempDir(), FetchInterval: time.Hour})
		Expect(err).NotTo(HaveOccurred())
		Expect(src.Fetch(ctx, true)).To(Succeed())
		Expect(src.Stale()).To(Succeed())
		_, err = src.Resolve(ctx, "main", 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(marker).NotTo(BeAnExistingFile())
	}, NodeTimeout(60*time.Second))

	It("refuses transports other than https, ssh, git and file", func(ctx SpecContext) {
		marker := filepath.Join(GinkgoT().TempDir(), "ran")
		_, err := recipe.Open(ctx, "evil", "ext::sh -c touch% "+marker, recipe.Options{CacheDir: GinkgoT().TempDir()})
		Expect(err).To(MatchError(ContainSubstring("transport 'ext' not allowed")))
		Expect(marker).NotTo(BeAnExistingFile())
	}, NodeTimeout(30*time.Second))
})

// newSampleRepoE is a repository with one commit on main, whose path holds no space.
func newSampleRepoE(dir string) (string, error) {
	o := newOrigin(dir)
	o.commit("one", map[string]string{"compose.yml": composeV1})
	if strings.ContainsAny(dir, " %") {
		return "", errors.New("temporary directory has a space or percent sign")
	}
	return dir, nil
}
