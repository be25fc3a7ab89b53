//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/docker/docker/api/types/events"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/test/hostile"
)

// httpGet returns the body of a GET of url, whatever the status.
func httpGet(ctx context.Context, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return string(body)
}

// pushTag commits change on top of main in a clone of the world's recipe and pushes the
// commit as the tag only; it returns the commit.
func pushTag(ctx context.Context, w *world, tag string, change func(dir string)) string {
	dir := filepath.Join(w.dir, "tag-"+randomID())
	gitIn(ctx, "", "clone", "--quiet", "--branch", "main", w.recipe, dir)
	change(dir)
	gitIn(ctx, dir, "-c", "user.name=Someone", "-c", "user.email=someone@example.org",
		"commit", "--quiet", "--all", "--message", "tag "+tag)
	gitIn(ctx, dir, "push", "--quiet", "origin", "HEAD:refs/tags/"+tag)
	return gitIn(ctx, dir, "rev-parse", "HEAD")
}

var _ = Describe("a secret value a recipe interpolates into an error", func() {
	It("is shown as <redacted:NAME> in the status, logs, run record, get, plan and dashboard, never in plain", func(ctx SpecContext) {
		const tag = "3.0.0+3.0"
		id, err := age.GenerateX25519Identity()
		Expect(err).NotTo(HaveOccurred())
		// Upper case makes it an invalid image reference, which the loader's error quotes.
		plaintext := "Planted-" + randomID() + "-Never-Shown"
		w := newWorld()
		key := filepath.Join(w.dir, "age-key.txt")
		Expect(os.WriteFile(key, []byte(id.String()+"\n"), 0o600)).To(Succeed())
		pushTag(ctx, w, tag, func(dir string) {
			replaceInFile(filepath.Join(dir, "compose.yml"), "image: ccci-sample-app:2.0", "image: ${SECRET_VALUE}")
		})
		armored := indent(ageArmor(id, plaintext), "        ")
		w.write("rt.yaml", fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %s
spec:
  recipe: sample
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
    SECRET_VALUE:
      age: |
%s
  tiers:
    - name: install
  timeout: 5m
`, w.name, w.recipe, armored))
		w.write("wc.yaml", fmt.Sprintf("apiVersion: ccci.commoninternet.net/v1\nkind: WarmCanonical\nmetadata:\n  name: %s\nspec:\n  version: %q\n  stack: %s\n  timeout: 1m\n  allowMajor: true\n  env:\n    SECRET_VALUE:\n      age: |\n%s\n", w.name, tag, w.stack, armored))

		var seen strings.Builder
		By("triggering a run of the tag, which fails loading the compose file")
		out, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", tag, "--age-identity", key)
		Expect(code).NotTo(Equal(0))
		seen.WriteString(out + errOut)
		runs := w.runsOf(w.name)
		Expect(runs).NotTo(BeEmpty())
		Expect(runs[0].Message).To(ContainSubstring("<redacted:SECRET_VALUE>"))

		By("sweeping, so the WarmCanonical's status holds the failure too")
		out, errOut, _ = w.ccci(ctx, "sweep", "--age-identity", key)
		seen.WriteString(out + errOut)
		out, errOut, _ = w.ccci(ctx, "get", "recipetest", w.name, "-o", "json")
		seen.WriteString(out + errOut)
		out, errOut, _ = w.ccci(ctx, "get", "warmcanonical", w.name, "-o", "json")
		seen.WriteString(out + errOut)

		By("reading the API and the dashboard of the daemon")
		d := w.startDaemon(ctx, "--age-identity", key)
		plan := httpGet(ctx, d.url+"/api/v1/plan")
		// JSON writes < and > as \u003c and \u003e.
		Expect(plan).To(ContainSubstring(`\u003credacted:SECRET_VALUE\u003e`), "the plan loads the tag and says why it cannot")
		seen.WriteString(plan)
		for _, path := range []string{"/api/v1/objects", "/api/v1/runs/" + runs[0].ID, "/", "/recipes/sample", "/runs/" + runs[0].ID} {
			seen.WriteString(httpGet(ctx, d.url+path))
		}

		Expect(seen.String()).NotTo(ContainSubstring(plaintext))
		Expect(w.leaks(plaintext)).To(BeEmpty(), "status, run.json and the logs in the state directory")
		Expect(w.deployedVersion(ctx)).To(BeEmpty())
	}, NodeTimeout(6*time.Minute))
})

// recordEvents subscribes to the engine's events from now on (a query of past events only
// reaches the engine's last few hundred, which healthchecks of other suites flush) and returns
// a function that stops and lists those whose actor names needle: what the engine did,
// whatever the controller says.
func recordEvents(ctx context.Context) func(needle string) []string {
	ctx, cancel := context.WithCancel(ctx)
	msgs, errs := docker.Events(ctx, events.ListOptions{})
	var (
		mu  sync.Mutex
		all []events.Message
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-msgs:
				mu.Lock()
				all = append(all, m)
				mu.Unlock()
			case <-errs:
				return
			}
		}
	}()
	return func(needle string) []string {
		// Events of the last moment still on their way.
		time.Sleep(time.Second)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, m := range all {
			if strings.Contains(m.Actor.ID+fmt.Sprint(m.Actor.Attributes), needle) {
				out = append(out, fmt.Sprintf("%s %s %s", m.Type, m.Action, m.Actor.Attributes["name"]))
			}
		}
		return out
	}
}

// writeTrustRecipeTest writes the world's RecipeTest with lint and install and spec.trust
// (none when trust is empty).
func (w *world) writeTrustRecipeTest(trust v1.Trust) {
	line := ""
	if trust != "" {
		line = "  trust: " + string(trust) + "\n"
	}
	w.write("rt.yaml", fmt.Sprintf(`apiVersion: ccci.commoninternet.net/v1
kind: RecipeTest
metadata:
  name: %s
spec:
  recipe: sample
  source:
    git: %s
  env:
    DOMAIN: "{{ .Stack }}.test.example.org"
  tiers:
    - name: lint
    - name: install
  timeout: 5m
%s`, w.name, w.recipe, line))
}

var _ = Describe("an untrusted pull request", func() {
	It("is refused at lint when it reaches the host, with nothing created in Docker; trusted, it deploys", func(ctx SpecContext) {
		w := newWorld()
		sha := pushPullRequest(ctx, w, 61, func(dir string) {
			compose := filepath.Join(dir, "compose.yml")
			replaceInFile(compose, "      - data:/data", "      - data:/data\n      - /:/host:ro\n      - /var/run/docker.sock:/var/run/docker.sock:ro")
			replaceInFile(compose, "    image: ccci-sample-app:2.0", "    image: ccci-sample-app:2.0\n    network_mode: host")
		})
		w.writeTrustRecipeTest("")

		By("triggering the pull request without spec.trust")
		events := recordEvents(ctx)
		_, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", sha, "--pr", "61")
		Expect(code).To(Equal(1))
		runs := w.runsOf(w.name)
		Expect(runs).To(HaveLen(1))
		run := runs[0]
		Expect(run.Verdict).To(Equal(v1.VerdictFailed))
		Expect(run.Tiers).NotTo(BeEmpty())
		lint := run.Tiers[0]
		Expect(lint.Name).To(Equal(v1.TierLint))
		Expect(lint.Result).To(Equal(v1.ResultFailed))
		const no = ": not allowed for untrusted refs; set spec.trust: trusted to allow"
		Expect(lint.Reason).To(HavePrefix("3 problems: "))
		Expect(lint.Reason).To(And(
			ContainSubstring(`services.app.volumes "/" (a host path mounted at /host)`+no),
			ContainSubstring(`services.app.volumes "/var/run/docker.sock" (the Docker socket, which is root on the host)`+no),
			ContainSubstring(`services.app.network_mode "host"`+no)))
		for _, t := range run.Tiers[1:] {
			Expect(t.Result).To(Equal(v1.ResultSkipped), string(t.Name))
		}
		Expect(events(run.ID)).To(BeEmpty(), "Docker saw no object of the refused run")

		By("triggering it again with spec.trust: trusted")
		w.writeTrustRecipeTest(v1.TrustTrusted)
		events = recordEvents(ctx)
		_, _, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", sha, "--pr", "61")
		runs = w.runsOf(w.name)
		Expect(runs).To(HaveLen(2))
		Expect(code).To(Equal(0), "%+v", runs[0])
		Expect(runs[0].Verdict).To(Equal(v1.VerdictPassed))
		Expect(events(runs[0].ID)).To(ContainElement(HavePrefix("service create")), "the trusted run deployed")
	}, NodeTimeout(8*time.Minute))
})

var _ = Describe("a hostile recipe repository", func() {
	DescribeTable("is refused at checkout, naming the entry, with no byte of the host file anywhere and nothing in Docker",
		func(ctx SpecContext, build func(dir, hostFile string) (*hostile.Repo, error), entry string) {
			w := newWorld()
			// Stands for the daemon's age identity, the file the recipe aims at.
			key := filepath.Join(w.dir, "host-age-key.txt")
			secret := "AGE-SECRET-KEY-1" + strings.ToUpper(randomID()) + "HOSTFILE"
			Expect(os.WriteFile(key, []byte(secret+"\n"), 0o600)).To(Succeed())
			repo, err := build(filepath.Join(w.dir, "evil"), key)
			Expect(err).NotTo(HaveOccurred())
			w.recipe = repo.Dir
			w.writeRecipeTest()

			events := recordEvents(ctx)
			out, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", hostile.Tag)
			Expect(code).NotTo(Equal(0))
			runs := w.runsOf(w.name)
			Expect(runs).To(HaveLen(1))
			Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
			Expect(runs[0].Message).To(ContainSubstring(fmt.Sprintf("tree entry %q is a symbolic link to a path outside the checkout; refused", entry)))
			Expect(runs[0].Message).To(ContainSubstring(hostile.Tag), "the error names the ref")
			for _, text := range []string{out, errOut, runs[0].Message} {
				Expect(text).NotTo(ContainSubstring(secret))
				Expect(text).NotTo(ContainSubstring(key))
			}
			Expect(w.leaks(secret)).To(BeEmpty())
			Expect(w.leaks(key)).To(BeEmpty())
			Expect(events(runs[0].ID)).To(BeEmpty())
		},
		Entry("an .env.sample linking to the age identity", hostile.EnvSampleLink, ".env.sample", NodeTimeout(2*time.Minute)),
		Entry("a compose.yml linking to the age identity", hostile.ComposeLink, "compose.yml", NodeTimeout(2*time.Minute)),
	)

	It("that writes $HOME/.gitconfig through its own link never gets into the cache, and no command runs", func(ctx SpecContext) {
		w := newWorld()
		home, marker := filepath.Join(w.dir, "home"), filepath.Join(w.dir, "ran")
		Expect(os.MkdirAll(home, 0o755)).To(Succeed())
		repo, err := hostile.GitconfigWriter(filepath.Join(w.dir, "evil"), home, "/", marker)
		Expect(err).NotTo(HaveOccurred())
		w.recipe = repo.Dir
		w.writeRecipeTest()
		events := recordEvents(ctx)
		c := exec.CommandContext(ctx, ccciBinary(), w.args("trigger", "recipetest/"+w.name, "--ref", hostile.Tag)...)
		c.Env = append(os.Environ(), "HOME="+home)
		out, err := c.CombinedOutput()
		Expect(err).To(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("duplicateEntries"))
		Expect(filepath.Join(home, ".gitconfig")).NotTo(BeAnExistingFile())
		Expect(marker).NotTo(BeAnExistingFile())
		runs := w.runsOf(w.name)
		Expect(runs).To(HaveLen(1))
		Expect(runs[0].Verdict).To(Equal(v1.VerdictAborted))
		Expect(events(runs[0].ID)).To(BeEmpty())
	}, NodeTimeout(2*time.Minute))
})
