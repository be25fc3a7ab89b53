package tiers_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/swarm"
	"coopcloud.tech/ccci-controller/internal/tiers"
)

// What a custom tier with an image asks of Swarm, against a fake: the integration suite proves
// on a real swarm that the container sees what the job says.
var _ = Describe("A custom tier with an image", func() {
	var (
		fake *fakeSwarm
		r    *tiers.Runner
		req  tiers.Request
	)

	BeforeEach(func() {
		fake = newFakeSwarm()
		r = tiers.NewRunner(fake, tiers.Options{Labels: map[string]string{v1.LabelOwner: "me"}})
		spec := v1.RecipeTestSpec{Recipe: "sample", Timeout: v1.Minutes(1), Env: map[string]string{"DOMAIN": "{{ .Stack }}.test.local"},
			Placement: &v1.Placement{Constraints: []string{"node.labels.pr==true"}}}
		spec.Tiers = []v1.Tier{{Name: v1.TierInstall}, {Name: v1.TierCustom, Image: "probe:1", Command: []string{"/probe", "check"}}}
		req = tiers.Request{RunID: tiers.NewRunID(), Spec: spec, Source: treeSource{}, Ref: "1.1.0+1.1", RunDir: GinkgoT().TempDir()}
	})

	It("runs as a job on the main stack with the checkout, the run's labels and placement, and keeps its artifacts", func(ctx SpecContext) {
		run, err := r.Run(ctx, req)
		Expect(r.WaitTeardowns(ctx)).To(Succeed())
		Expect(err).NotTo(HaveOccurred())
		Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Passed"}), "%+v", run.Tiers)
		Expect(run.Trust).To(Equal(v1.TrustTrusted), "a tag is trusted")
		Expect(fake.jobs).To(HaveLen(1))
		j := fake.jobs[0]
		main := tiers.StackName("sample", req.RunID, "")
		Expect(j).To(And(HaveField("Stack", main), HaveField("Image", "probe:1"), HaveField("Command", []string{"/probe", "check"}),
			HaveField("FilesDir", "/recipe"), HaveField("OutputDir", "/artifacts"), HaveField("RunID", req.RunID), HaveField("Role", v1.RoleTest)))
		Expect(j.Labels).To(HaveKeyWithValue(v1.LabelOwner, "me"))
		Expect(j.Placement.Constraints).To(Equal([]string{"node.labels.pr==true"}))
		Expect(j.Env).To(And(HaveKeyWithValue("STACK_NAME", main), HaveKeyWithValue("DOMAIN", main+".test.local"),
			HaveKeyWithValue("VERSION", "1.1.0+1.1"), HaveKeyWithValue("RECIPE_DIR", "/recipe"), HaveKeyWithValue("ARTIFACTS_DIR", "/artifacts")))
		Expect(j.Env).NotTo(HaveKey("DOCKER_HOST"), "the container gets no way to the controller's engine")
		Expect(fake.jobFiles).To(ContainElement("compose.yml"))
		Expect(os.ReadFile(filepath.Join(req.RunDir, "artifacts", "result.txt"))).To(Equal([]byte("ok\n")))
	}, NodeTimeout(30*time.Second))

	DescribeTable("fails the tier when the container did not exit 0",
		func(ctx SpecContext, res swarm.JobResult, reason string) {
			fake.jobResult = res
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Failed"}))
			Expect(reasonOf(run, v1.TierCustom)).To(Equal(reason))
			Expect(run.Verdict).To(Equal(v1.VerdictFailed))
		},
		Entry("a non-zero exit", swarm.JobResult{State: "failed", ExitCode: 3, Message: "task: non-zero exit (3)"}, `command "/probe check" exited with code 3`, NodeTimeout(30*time.Second)),
		Entry("an image the node cannot get", swarm.JobResult{State: "rejected", Message: "No such image: probe:1"}, `command "/probe check" did not run: task rejected: No such image: probe:1`, NodeTimeout(30*time.Second)),
	)

	Context("when the ref is untrusted", func() {
		BeforeEach(func() { req.Spec.Trust = v1.TrustUntrusted })

		It("runs it, and records the run as untrusted", func(ctx SpecContext) {
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"install:Passed", "custom:Passed"}), "%+v", run.Tiers)
			Expect(run.Trust).To(Equal(v1.TrustUntrusted))
		}, NodeTimeout(30*time.Second))

		It("refuses the same tier without an image, deploying nothing", func(ctx SpecContext) {
			req.Spec.Tiers[1].Image = ""
			run, err := r.Run(ctx, req)
			Expect(r.WaitTeardowns(ctx)).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			Expect(results(run)).To(Equal([]string{"lint:Failed", "install:Skipped", "custom:Skipped"}), "%+v", run.Tiers)
			Expect(reasonOf(run, v1.TierLint)).To(Equal(`1 problem: tiers.custom.command "/probe check" without image (runs on the controller host): not allowed for untrusted refs; set spec.trust: trusted to allow`))
			Expect(fake.deploys).To(BeEmpty())
			Expect(fake.jobs).To(BeEmpty())
		}, NodeTimeout(30*time.Second))
	})
})
