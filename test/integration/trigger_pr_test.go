//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// A pull request from a fork reaches the recipe's origin only as refs/pull/N/head: its commit is
// on no branch and no tag, so a mirror of branches and tags does not have it until the pull
// request's ref is fetched. That commit id is what Drone hands to trigger.
var _ = Describe("trigger for a commit that exists only as a pull request's ref", Ordered, func() {
	const fork = "someone/fork"
	var (
		w *world
		// greenFlags, greenEnv and red are commits pushed as refs/pull/42/head, 45 and 43.
		greenFlags, greenEnv, red string
		// warmIndexes are the warm stack's services' Version.Index after its promotion.
		warmIndexes map[string]uint64
	)

	BeforeAll(func(ctx SpecContext) {
		w = newWorld()
		// A pull request is branched from main, whose tip is the newest tag 2.0.0+2.0: lint
		// rightly fails a commit whose version label is older than the newest tag.
		By("pushing commits on top of main to the origin as pull request refs only")
		greenFlags = pushPullRequest(ctx, w, 42, func(dir string) {
			appendLine(filepath.Join(dir, "README.md"), "A harmless line from pull request 42.")
		})
		greenEnv = pushPullRequest(ctx, w, 45, func(dir string) {
			appendLine(filepath.Join(dir, "README.md"), "A harmless line from pull request 45.")
		})
		red = pushPullRequest(ctx, w, 43, func(dir string) {
			replaceInFile(filepath.Join(dir, ".env.sample"), "SAMPLE_UNHEALTHY=false", "SAMPLE_UNHEALTHY=true")
		})

		By("promoting the warm app to 1.1.0+1.1 (install tier only, to keep it short)")
		w.writeRecipeTest()
		w.writeWarmCanonical(tag11)
		Expect(w.sweepAction(ctx)).To(Equal("PROMOTED"))
		Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		warmIndexes = w.serviceIndexes(ctx)
		Expect(warmIndexes).NotTo(BeEmpty())

		// From here on the WarmCanonical wants 2.0.0+2.0 and may have it: anything that
		// reconciled it would deploy, so an unchanged warm stack shows that trigger only tested.
		w.writeWarmCanonical("latest", "allowMajor: true")
		By("testing lint, install and an upgrade from the warm app's known-good version")
		w.writeRecipeTest("- name: lint", "- name: install", "- name: upgrade\n  from: knownGood")
	}, NodeTimeout(4*time.Minute))

	// The warm app is checked after every spec: trigger never deploys or changes it.
	AfterEach(func(ctx SpecContext) {
		Expect(w.serviceIndexes(ctx)).To(Equal(warmIndexes))
		Expect(w.deployedVersion(ctx)).To(Equal(tag11))
		Expect(w.promotions()).To(HaveLen(1))
		Expect(testStacks(ctx)).To(BeEmpty())
	}, NodeTimeout(time.Minute))

	Context("when no pull request is given", func() {
		It("fails with exit 1 naming the recipe and every ref it tried", func(ctx SpecContext) {
			By("asking for the pull request's commit without --pr")
			_, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", greenFlags)
			Expect(code).To(Equal(1))
			Expect(errOut).To(And(ContainSubstring("recipe sample"), ContainSubstring(w.recipe),
				ContainSubstring("refs/tags/"+greenFlags), ContainSubstring("refs/heads/"+greenFlags),
				ContainSubstring("is not a tag, branch or commit")))
			Expect(w.runs()[0].Verdict).To(Equal(v1.VerdictAborted))

			By("asking for a commit nobody pushed, with a pull request that does not exist")
			unknown := strings.Repeat("0badc0de", 5)
			_, errOut, code = w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", unknown, "--pr", "99", "--src", fork)
			Expect(code).To(Equal(1))
			Expect(errOut).To(And(ContainSubstring("recipe sample"), ContainSubstring(unknown),
				ContainSubstring("pull request 99 could not be fetched"), ContainSubstring("refs/pull/99/head")))
		}, NodeTimeout(time.Minute))
	})

	Context("when the pull request's commit is given by flags", func() {
		It("fetches the pull request, runs the tiers green and records the Drone trigger", func(ctx SpecContext) {
			out, errOut, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", greenFlags, "--pr", "42", "--src", fork)
			Expect(code).To(Equal(0))
			expectTierTable(out, greenFlags, `lint\s+Passed`, `install\s+Passed`, `upgrade\s+Passed`)
			Expect(errOut).To(ContainSubstring("tier install started"))
			expectDroneRun(ctx, w, greenFlags, greenFlags, 42, fork, v1.VerdictPassed)
		}, NodeTimeout(4*time.Minute))
	})

	Context("when the pull request's commit comes from Drone's environment", func() {
		It("runs the tiers green and records the same as with flags", func(ctx SpecContext) {
			out, _, code := w.ccciEnv(ctx, []string{"DRONE=true", "RECIPE=" + w.name, "DRONE_COMMIT_SHA=" + greenEnv,
				"DRONE_PULL_REQUEST=45", "DRONE_REPO=" + fork}, "trigger")
			Expect(code).To(Equal(0))
			expectTierTable(out, greenEnv, `lint\s+Passed`, `install\s+Passed`, `upgrade\s+Passed`)
			expectDroneRun(ctx, w, greenEnv, greenEnv, 45, fork, v1.VerdictPassed)
		}, NodeTimeout(4*time.Minute))
	})

	Context("when a custom build gives only the pull request's number", func() {
		It("tests the pull request's head", func(ctx SpecContext) {
			out, _, code := w.ccciEnv(ctx, []string{"RECIPE=" + w.name, "PR=45", "SRC=" + fork}, "trigger")
			Expect(code).To(Equal(0))
			expectTierTable(out, greenEnv, `lint\s+Passed`, `install\s+Passed`, `upgrade\s+Passed`)
			expectDroneRun(ctx, w, "", greenEnv, 45, fork, v1.VerdictPassed)
		}, NodeTimeout(4*time.Minute))
	})

	Context("when the pull request was force-pushed after the mirror fetched it", func() {
		It("fetches the pull request again and tests its new head", func(ctx SpecContext) {
			By("replacing refs/pull/42/head, which the mirror holds since the first green run")
			forced := pushPullRequest(ctx, w, 42, func(dir string) {
				appendLine(filepath.Join(dir, "README.md"), "Pull request 42, amended.")
			})
			Expect(forced).NotTo(Equal(greenFlags))
			out, _, code := w.ccci(ctx, "trigger", "recipetest/"+w.name, "--ref", forced, "--pr", "42", "--src", fork)
			Expect(code).To(Equal(0))
			expectTierTable(out, forced, `lint\s+Passed`, `install\s+Passed`, `upgrade\s+Passed`)
			expectDroneRun(ctx, w, forced, forced, 42, fork, v1.VerdictPassed)
		}, NodeTimeout(4*time.Minute))
	})

	Context("when the pull request makes the app unhealthy", func() {
		It("exits 1 and prints the failing tier's reason", func(ctx SpecContext) {
			out, _, code := w.ccci(ctx, "trigger", "rt/"+w.name, "--ref", red, "--pr", "43", "--src", fork)
			Expect(code).To(Equal(1))
			expectTierTable(out, red, `lint\s+Passed`, `install\s+Failed`)
			run := expectDroneRun(ctx, w, red, red, 43, fork, v1.VerdictFailed)
			install := tierOf(run, v1.TierInstall)
			Expect(install.Result).To(Equal(v1.ResultFailed))
			Expect(install.Reason).NotTo(BeEmpty())
			// The table shows the reason on one line, cut at 160 characters.
			reason := oneLineReason(install.Reason)
			Expect(out).To(MatchRegexp(`install\s+Failed\s+\S+\s+` + regexp.QuoteMeta(reason)))
		}, NodeTimeout(4*time.Minute))
	})
})

// pushPullRequest commits change on top of main in a clone of the world's recipe, pushes it to
// the origin as refs/pull/<pr>/head (replacing what was there) and nothing else, and returns
// the commit id.
func pushPullRequest(ctx context.Context, w *world, pr int, change func(dir string)) string {
	dir := filepath.Join(w.dir, fmt.Sprintf("pr%d-%s", pr, randomID()))
	gitIn(ctx, "", "clone", "--quiet", "--branch", "main", w.recipe, dir)
	change(dir)
	gitIn(ctx, dir, "-c", "user.name=Someone", "-c", "user.email=someone@example.org",
		"commit", "--quiet", "--all", "--message", fmt.Sprintf("pull request %d", pr))
	ref := fmt.Sprintf("refs/pull/%d/head", pr)
	// Forced, as a forge does when the author force-pushes the pull request's branch.
	gitIn(ctx, dir, "push", "--quiet", "origin", "+HEAD:"+ref)
	sha := gitIn(ctx, dir, "rev-parse", "HEAD")
	Expect(gitIn(ctx, w.recipe, "rev-parse", ref)).To(Equal(sha))
	Expect(gitIn(ctx, w.recipe, "branch", "--all", "--contains", sha)).To(BeEmpty(), "a branch of the origin holds the pull request's commit")
	Expect(gitIn(ctx, w.recipe, "tag", "--contains", sha)).To(BeEmpty(), "a tag of the origin holds the pull request's commit")
	return sha
}

// gitIn runs git in dir (the current directory when empty) and returns its trimmed output.
func gitIn(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

func appendLine(file, line string) {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	Expect(err).NotTo(HaveOccurred())
	_, err = fmt.Fprintln(f, line)
	Expect(err).NotTo(HaveOccurred())
	Expect(f.Close()).To(Succeed())
}

func replaceInFile(file, old, new string) {
	b, err := os.ReadFile(file)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(b)).To(ContainSubstring(old))
	Expect(os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644)).To(Succeed())
}

// ccciEnv is ccci with extra environment variables, as a Drone step has them.
func (w *world) ccciEnv(ctx context.Context, env []string, cmd string, rest ...string) (string, string, int) {
	c := exec.CommandContext(ctx, ccciBinary(), w.args(cmd, rest...)...)
	c.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	GinkgoWriter.Printf("$ %s ccci %s %s -> %d\n%s%s", strings.Join(env, " "), cmd, strings.Join(rest, " "), code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

// expectTierTable checks trigger's table: its header, the given rows, and the tested commit.
func expectTierTable(out, commit string, rows ...string) {
	Expect(out).To(MatchRegexp(`TIER\s+RESULT\s+DURATION\s+REASON`))
	for _, r := range rows {
		Expect(out).To(MatchRegexp(`(?m)^` + r))
	}
	Expect(out).To(ContainSubstring("commit " + commit[:12]))
}

// expectDroneRun reads the RecipeTest's newest run the way an operator does, with get -o json,
// and checks that it is the Drone run of ref, resolved to commit, for pull request pr from src.
func expectDroneRun(ctx context.Context, w *world, ref, commit string, pr int, src string, verdict v1.Verdict) v1.Run {
	out, _, code := w.ccci(ctx, "get", "rt", w.name, "-o", "json")
	Expect(code).To(Equal(0))
	var view struct {
		Status v1.RecipeTestStatus `json:"status"`
	}
	Expect(json.Unmarshal([]byte(out), &view)).To(Succeed(), out)
	Expect(view.Status.Runs).NotTo(BeEmpty())
	run := view.Status.Runs[0]
	Expect(run.Trigger).To(Equal(v1.TriggerDrone))
	Expect(run.PR).To(Equal(pr))
	Expect(run.SourceRepo).To(Equal(src))
	Expect(run.Ref).To(Equal(ref))
	Expect(run.Commit).To(Equal(commit))
	Expect(run.Version).To(BeEmpty(), "a pull request's commit is not a version tag")
	Expect(run.Verdict).To(Equal(verdict), run.Message)
	Expect(run.BaseVersion).To(Equal(tag11), "the upgrade starts from the warm app's known-good version")
	return run
}

func tierOf(run v1.Run, name v1.TierName) v1.TierResult {
	for _, t := range run.Tiers {
		if t.Name == name {
			return t
		}
	}
	Fail(fmt.Sprintf("run %s has no tier %s", run.ID, name))
	return v1.TierResult{}
}

// oneLineReason is the reason as the tier table prints it.
func oneLineReason(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
