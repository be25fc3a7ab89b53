package tiers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/recipe"
	"coopcloud.tech/ccci-controller/internal/tiers"
	"coopcloud.tech/ccci-controller/test/fixtures"
)

// dirSource serves checkouts from directories keyed by tag.
type dirSource map[string]string

func (d dirSource) Resolve(ctx context.Context, ref string, pr int) (string, error) {
	return ref, nil
}

func (d dirSource) Checkout(ctx context.Context, commit string) (*recipe.Checkout, error) {
	return &recipe.Checkout{Dir: d[commit], Commit: commit}, nil
}

func (d dirSource) Versions(ctx context.Context) (recipe.Versions, error) {
	var tags []string
	for t := range d {
		tags = append(tags, t)
	}
	return recipe.NewVersions(tags), nil
}

// sampleTree copies a sample recipe tree and applies replacements to its files.
func sampleTree(tag string, edits map[string][2]string) string {
	dir := filepath.Join(GinkgoT().TempDir(), tag)
	Expect(exec.Command("cp", "-a", filepath.Join(fixtures.RepoRoot(), "config", "sample-recipe", tag), dir).Run()).To(Succeed())
	for file, e := range edits {
		p := filepath.Join(dir, file)
		data, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring(e[0]), file)
		Expect(os.WriteFile(p, []byte(strings.ReplaceAll(string(data), e[0], e[1])), 0o644)).To(Succeed())
	}
	return dir
}

var _ = Describe("the lint tier", func() {
	lint := func(ctx context.Context, src dirSource, ref string) v1.Run {
		spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Tiers: []v1.Tier{{Name: v1.TierLint}}}
		run, err := tiers.NewRunner(newFakeSwarm(), tiers.Options{}).Run(ctx, tiers.Request{
			RunID: tiers.NewRunID(), Spec: spec, Source: src, Ref: ref, RunDir: GinkgoT().TempDir(),
		})
		Expect(err).NotTo(HaveOccurred())
		return run
	}

	Context("when the candidate is consistent", func() {
		It("passes without deploying", func(ctx SpecContext) {
			run := lint(ctx, dirSource{"1.0.0+1.0": sampleTree("1.0.0+1.0", nil), "1.1.0+1.1": sampleTree("1.1.0+1.1", nil)}, "1.1.0+1.1")
			Expect(results(run)).To(Equal([]string{"lint:Passed"}))
			Expect(run.Verdict).To(Equal(v1.VerdictFailed), "no install, no verdict")
		}, NodeTimeout(20*time.Second))
	})

	Context("when the candidate has every mistake lint knows", func() {
		It("names each of them", func(ctx SpecContext) {
			cand := sampleTree("1.1.0+1.1", map[string][2]string{
				"compose.yml": {"version=1.1.0+1.1", "version=1.0.9+1.0"},
			})
			compose := filepath.Join(cand, "compose.yml")
			Expect(os.WriteFile(compose, []byte(strings.Replace(readFile(compose), "image: ccci-sample-app:1.1", "image: ccci-sample-app:latest", 1)), 0o644)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(cand, "motd.txt"), []byte("changed without a bump\n"), 0o644)).To(Succeed())
			run := lint(ctx, dirSource{"1.0.0+1.0": sampleTree("1.0.0+1.0", nil), "1.1.0+1.1": cand}, "1.1.0+1.1")
			Expect(results(run)).To(Equal([]string{"lint:Failed"}))
			reason := reasonOf(run, v1.TierLint)
			Expect(reason).To(ContainSubstring(`services.app.image "ccci-sample-app:latest" uses latest`))
			Expect(reason).To(ContainSubstring(`coop-cloud.${STACK_NAME}.version is "1.0.9+1.0", want the tag under test "1.1.0+1.1"`))
			Expect(reason).To(ContainSubstring("configs.motd: motd.txt changed since 1.0.0+1.0"))
			Expect(reason).To(ContainSubstring("bump MOTD_VERSION"))
		}, NodeTimeout(20*time.Second))
	})

	Context("when a service uses a secret the files do not define", func() {
		It("fails before any deploy would", func(ctx SpecContext) {
			cand := sampleTree("1.1.0+1.1", map[string][2]string{"compose.worker.yml": {"    healthcheck:", "    secrets: [api_key]\n    healthcheck:"}})
			run := lint(ctx, dirSource{"1.1.0+1.1": cand}, "1.1.0+1.1")
			Expect(results(run)).To(Equal([]string{"lint:Failed"}))
			Expect(reasonOf(run, v1.TierLint)).To(ContainSubstring(`services.worker uses secret "api_key"`))
		}, NodeTimeout(20*time.Second))
	})

	Context("when an overlay does not load", func() {
		It("names the file", func(ctx SpecContext) {
			cand := sampleTree("1.1.0+1.1", map[string][2]string{"compose.worker.yml": {"services:", "services:\n  broken: {image: x:1, nonsense: true}"}})
			run := lint(ctx, dirSource{"1.1.0+1.1": cand}, "1.1.0+1.1")
			Expect(reasonOf(run, v1.TierLint)).To(HavePrefix("compose file compose.worker.yml"))
		}, NodeTimeout(20*time.Second))
	})
})

func readFile(p string) string {
	data, err := os.ReadFile(p)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}

var _ = Describe("Runner.CollectGarbage beside a run", func() {
	It("leaves the stacks of a run of this process alone", func(ctx SpecContext) {
		fake := newFakeSwarm()
		fake.hang["1.1.0+1.1"] = true
		r := tiers.NewRunner(fake, tiers.Options{})
		id := tiers.NewRunID()
		active := tiers.StackName("sample", id, "")
		fake.labelled = []string{active, "ccci_sample_dead"}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Tiers: []v1.Tier{{Name: v1.TierInstall}}}
			_, _ = r.Run(runCtx, tiers.Request{RunID: id, Spec: spec, Source: treeSource{}, Ref: "1.1.0+1.1", RunDir: GinkgoT().TempDir()})
		}()
		Eventually(func() []string { fake.mu.Lock(); defer fake.mu.Unlock(); return fake.deploys }).
			WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).ShouldNot(BeEmpty())

		Expect(r.CollectGarbage(ctx)).To(Succeed())
		fake.mu.Lock()
		Expect(fake.removed).To(Equal([]string{"ccci_sample_dead"}))
		fake.mu.Unlock()
		cancel()
		Eventually(done).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(BeClosed())
	}, NodeTimeout(20*time.Second))
})
