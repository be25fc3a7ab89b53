package corpus_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/test/fixtures"
)

func TestCorpus(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Recipe Corpus Suite")
}

// corpusDir is shared/corpus/recipes beside the repository (CI lays shared/ next to its clone),
// else CCCI_RECIPE_CORPUS.
func corpusDir() string {
	if d := os.Getenv("CCCI_RECIPE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join(fixtures.RepoRoot(), "..", "shared", "corpus", "recipes")
}

// recipes maps each recipe of PROVENANCE.tsv to its clone, made once per suite.
var recipes map[string]string

// recipeNames are the eleven recipes of the corpus, as PROVENANCE.tsv lists them.
var recipeNames = []string{"abramon", "agora", "bore", "custom-php", "foodsharing-cms", "gaseous", "go-ssb-room", "llamenos", "nodex-next", "traefik", "wordpress"}

var _ = BeforeSuite(func() {
	dir := corpusDir()
	f, err := os.Open(filepath.Join(dir, "PROVENANCE.tsv"))
	Expect(err).NotTo(HaveOccurred(), "the recipe corpus is missing at %s (set CCCI_RECIPE_CORPUS)", dir)
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "\t")
		if name != "" && name != "recipe" {
			listed = append(listed, name)
		}
	}
	Expect(listed).To(ConsistOf(recipeNames), "PROVENANCE.tsv lists other recipes than these tests cover")
	root := GinkgoT().TempDir()
	recipes = map[string]string{}
	for _, name := range listed {
		dst := filepath.Join(root, name)
		out, err := exec.Command("git", "clone", "--quiet", filepath.Join(dir, name+".bundle"), dst).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "clone %s: %s", name, out)
		recipes[name] = dst
	}
})

// dockerCLI finds a docker client of version 23 or newer, whose `docker stack config` works
// without a daemon; Debian's docker.io adds a 20.10 client that lacks the command. It fails the
// spec, never skips it, when there is none.
func dockerCLI() string {
	seen := []string{}
	for _, p := range []string{"/usr/local/bin/docker", "/usr/bin/docker", "docker"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		out, err := exec.Command(path, "--version").Output()
		seen = append(seen, path+": "+strings.TrimSpace(string(out)))
		if err != nil {
			continue
		}
		if m := regexp.MustCompile(`version (\d+)\.`).FindStringSubmatch(string(out)); m != nil {
			if major, _ := strconv.Atoi(m[1]); major >= 23 {
				return path
			}
		}
	}
	Fail("no docker client of version 23 or newer (with `docker stack config`) found; seen: " + strings.Join(seen, "; "))
	return ""
}
