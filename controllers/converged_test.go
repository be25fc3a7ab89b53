package controllers_test

import (
	"errors"
	"path"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
	"coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("Unchanged", func() {
	rec := controllers.ConvergedRecord{Version: v11, Commit: "c1", SpecHash: "s1", EnvDigest: "e1", Services: "warm_app_app@7;"}
	with := func(f func(*controllers.ConvergedRecord)) controllers.ConvergedRecord {
		r := rec
		f(&r)
		return r
	}
	DescribeTable("decides converged from the record, naming what differs",
		func(recorded *controllers.ConvergedRecord, now controllers.ConvergedRecord, want bool, why string) {
			ok, what := controllers.Unchanged(recorded, now)
			Expect(ok).To(Equal(want))
			Expect(what).To(Equal(why))
		},
		Entry("everything as recorded", &rec, rec, true, ""),
		Entry("no record", nil, rec, false, "no record"),
		Entry("another version runs", &rec, with(func(r *controllers.ConvergedRecord) { r.Version = v10 }), false, "version"),
		Entry("the tag moved", &rec, with(func(r *controllers.ConvergedRecord) { r.Commit = "c2" }), false, "commit"),
		Entry("no commit known now", &rec, with(func(r *controllers.ConvergedRecord) { r.Commit = "" }), false, "commit"),
		Entry("a spec changed", &rec, with(func(r *controllers.ConvergedRecord) { r.SpecHash = "s2" }), false, "spec"),
		Entry("spec.env changed", &rec, with(func(r *controllers.ConvergedRecord) { r.EnvDigest = "e2" }), false, "env"),
		Entry("promoted with other digests", &rec, with(func(r *controllers.ConvergedRecord) { r.Images = map[string]string{imgRef: newSum} }), false, "images"),
		Entry("a service was written", &rec, with(func(r *controllers.ConvergedRecord) { r.Services = "warm_app_app@9;" }), false, "services"),
		Entry("a stack without services", &controllers.ConvergedRecord{Version: v11, Commit: "c1", SpecHash: "s1", EnvDigest: "e1"},
			with(func(r *controllers.ConvergedRecord) { r.Services = "" }), false, "services"),
	)

	It("digests env independently of order and of how keys and values split", func() {
		Expect(controllers.EnvDigest(map[string]string{"A": "1", "B": "2"})).To(Equal(controllers.EnvDigest(map[string]string{"B": "2", "A": "1"})))
		Expect(controllers.EnvDigest(map[string]string{"A": "1=B"})).NotTo(Equal(controllers.EnvDigest(map[string]string{"A=1": "B"})))
	})
})

var _ = Describe("WarmCanonicalReconciler across processes", func() {
	var w *world
	BeforeEach(func(ctx SpecContext) {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
	}, NodeTimeout(10*time.Second))

	It("knows a converged app from its record: a new process reads no recipe for it", func(ctx SpecContext) {
		calls := w.cluster.driftCalls
		w.restart()
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.cluster.driftCalls).To(Equal(calls), "no comparison with the recipe")
		Expect(w.cluster.writes()).To(HaveLen(1), "only the promotion wrote")
	}, NodeTimeout(10*time.Second))

	It("does not try a comparison that could not run again in a new process until an input changes", func(ctx SpecContext) {
		w.cluster.handEdit("warm_app", true)
		w.cluster.driftErr = errors.New("convert services: service app: secret not found")
		w.restart()
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		calls := w.cluster.driftCalls
		w.restart()
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.cluster.driftCalls).To(Equal(calls))
	}, NodeTimeout(10*time.Second))

	DescribeTable("reads the recipe again when an input differs from the record",
		func(ctx SpecContext, change func(*world)) {
			change(w)
			calls := w.cluster.driftCalls
			w.restart()
			_, err := w.r.ReconcileOnce(ctx, "app", false)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.cluster.driftCalls).To(Equal(calls+1), "one comparison with the recipe")
		},
		Entry("a hand edit of a service", func(w *world) {
			w.cluster.handEdit("warm_app", true, swarm.Drift{Service: "warm_app_app", Fields: []string{"TaskTemplate.ContainerSpec.Env"}})
		}, NodeTimeout(10*time.Second)),
		Entry("an edited WarmCanonical spec", func(w *world) {
			wc := warmCanonical("app", "latest")
			wc.Spec.Interval = v1.Duration{Duration: time.Hour}
			w.objects.put(wc)
		}, NodeTimeout(10*time.Second)),
		Entry("an edited RecipeTest spec", func(w *world) {
			rt := recipeTest("app")
			rt.Spec.Timeout = v1.Duration{Duration: time.Hour}
			w.objects.put(rt)
		}, NodeTimeout(10*time.Second)),
	)
})

var _ = Describe("WarmCanonicalReconciler promoted by digest", func() {
	var w *world
	BeforeEach(func(ctx SpecContext) {
		w = newWorld(GinkgoT().TempDir(), recipeTest("app"), warmCanonical("app", "latest"))
		w.tester.images = []v1.RunImage{{Role: v1.ImageCandidate, Service: "app", Image: imgRef, Digest: oldSum}}
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultPromoted))
		Expect(w.r.Converge(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
	}, NodeTimeout(10*time.Second))

	It("compares the live services with the digests it was promoted with", func() {
		Expect(w.cluster.driftPins).NotTo(BeEmpty())
		Expect(w.cluster.driftPins[len(w.cluster.driftPins)-1]).To(Equal(map[string]string{imgRef: oldSum}))
	})

	It("compares again in a new process when its status names other digests than the record", func(ctx SpecContext) {
		w.restart()
		calls := w.cluster.driftCalls
		Expect(w.r.ReconcileOnce(ctx, "app", false)).To(HaveField("Result", controllers.ResultConverged))
		Expect(w.cluster.driftCalls).To(Equal(calls), "the record holds while the digests are the same")

		By("restoring a status that says the app was promoted with other bytes")
		st := w.status("app")
		st.DeployedImages = map[string]string{imgRef: newSum}
		Expect(w.store.Put(v1.KindWarmCanonical, "app", st)).To(Succeed())
		w.restart()
		_, err := w.r.ReconcileOnce(ctx, "app", false)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.cluster.driftCalls).To(Equal(calls+1), "one comparison with the recipe")
		Expect(w.cluster.driftPins[len(w.cluster.driftPins)-1]).To(Equal(map[string]string{imgRef: newSum}))
	}, NodeTimeout(10*time.Second))
})

var _ = Describe("WarmCanonicalReconciler.Sweep with runs to make", func() {
	It("starts the runs of every object before awaiting any, so they run side by side", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("a"), warmCanonical("a", "latest"), recipeTest("b"), warmCanonical("b", "latest"))
		w.pool.Max = 2
		w.tester.release = make(chan struct{})
		done := make(chan []controllers.SweepLine)
		go func() {
			defer GinkgoRecover()
			var lines []controllers.SweepLine
			failed, err := w.r.Sweep(ctx, func(l controllers.SweepLine) { lines = append(lines, l) })
			Expect(err).NotTo(HaveOccurred())
			Expect(failed).To(BeFalse())
			done <- lines
		}()
		Eventually(w.tester.requests).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(HaveLen(2), "both runs going at once")
		close(w.tester.release)
		var lines []controllers.SweepLine
		Eventually(done).WithTimeout(5 * time.Second).Should(Receive(&lines))
		Expect(lines).To(HaveLen(2))
		for _, l := range lines {
			Expect(l.Result).To(Equal(controllers.ResultPromoted), l.Name)
		}
	}, NodeTimeout(15*time.Second))

	It("promotes an object as soon as its run passed, while the other objects' runs still go", func(ctx SpecContext) {
		w := newWorld(GinkgoT().TempDir(), recipeTest("a"), warmCanonical("a", "latest"), recipeTest("b"), warmCanonical("b", "latest"),
			recipeTest("c"), warmCanonical("c", "latest"))
		// One run and one promotion at a time: an object holding the promotion slot while its
		// run waits for the run slot would keep the first tested object from promoting.
		w.pool.Max = 1
		w.tester.release = make(chan struct{})
		done := make(chan bool)
		go func() {
			defer GinkgoRecover()
			failed, err := w.r.Sweep(ctx, nil)
			Expect(err).NotTo(HaveOccurred())
			done <- failed
		}()
		Eventually(w.tester.requests).WithTimeout(5 * time.Second).WithPolling(10 * time.Millisecond).Should(HaveLen(1))
		first := path.Base(w.tester.requests()[0].Spec.Source.Git)
		w.tester.release <- struct{}{}
		Eventually(w.cluster.writes).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(ContainElement(HavePrefix("warm_"+first+"@")),
			"%s promoted while the next run is held", first)
		Expect(w.tester.requests()).To(HaveLen(2), "the next run is going, not ended")
		close(w.tester.release)
		Eventually(done).WithTimeout(5 * time.Second).Should(Receive(BeFalse()))
	}, NodeTimeout(15*time.Second))

	It("promotes the tested objects side by side, a dependent after its dependency", func(ctx SpecContext) {
		c := warmCanonical("c", "latest")
		c.Spec.DependsOn = []string{"a"}
		w := newWorld(GinkgoT().TempDir(), recipeTest("a"), warmCanonical("a", "latest"), recipeTest("b"), warmCanonical("b", "latest"), recipeTest("c"), c)
		w.pool.Max = 3
		w.cluster.hold = make(chan struct{})
		done := make(chan []controllers.SweepLine)
		go func() {
			defer GinkgoRecover()
			var lines []controllers.SweepLine
			failed, err := w.r.Sweep(ctx, func(l controllers.SweepLine) { lines = append(lines, l) })
			Expect(err).NotTo(HaveOccurred())
			Expect(failed).To(BeFalse())
			done <- lines
		}()
		Eventually(w.cluster.holdingNow).WithTimeout(5*time.Second).WithPolling(10*time.Millisecond).Should(Equal(2), "a and b converging at once")
		Consistently(w.cluster.writes).WithTimeout(200*time.Millisecond).WithPolling(10*time.Millisecond).ShouldNot(ContainElement(HavePrefix("warm_c@")), "c waits for a")
		close(w.cluster.hold)
		var lines []controllers.SweepLine
		Eventually(done).WithTimeout(5 * time.Second).Should(Receive(&lines))
		Expect(lines).To(HaveLen(3))
		var order []string
		for _, l := range lines {
			Expect(l.Result).To(Equal(controllers.ResultPromoted), l.Name)
			order = append(order, l.Name)
		}
		Expect(slices.Index(order, "c")).To(BeNumerically(">", slices.Index(order, "a")))
	}, NodeTimeout(15*time.Second))
})
