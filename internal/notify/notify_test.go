package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/metrics"
	"coopcloud.tech/ccci-controller/internal/notify"
	"coopcloud.tech/ccci-controller/internal/store"
)

// receiver is a webhook that records what it gets; fail makes it answer 500 that many times.
type receiver struct {
	mu     sync.Mutex
	events []notify.Event
	sigs   []string
	bodies [][]byte
	fail   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var e notify.Event
	Expect(json.Unmarshal(body, &e)).To(Succeed())
	Expect(req.Header.Get(notify.EventHeader)).To(Equal(string(e.Type)))
	r.events, r.sigs, r.bodies = append(r.events, e), append(r.sigs, req.Header.Get(notify.SignatureHeader)), append(r.bodies, body)
}

func (r *receiver) types() []notify.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []notify.EventType
	for _, e := range r.events {
		ts = append(ts, e.Type)
	}
	return ts
}

// newReceiver starts a receiver on loopback for the spec; it returns its URL.
func newReceiver() (*receiver, string) {
	rcv := &receiver{}
	ts := httptest.NewServer(rcv)
	DeferCleanup(ts.Close)
	return rcv, ts.URL
}

func status(ready bool, reason, attempted, deployed, desired string, reconciling ...string) v1.WarmCanonicalStatus {
	s := v1.ConditionFalse
	if ready {
		s = v1.ConditionTrue
	}
	st := v1.WarmCanonicalStatus{LastAttemptedVersion: attempted, DeployedVersion: deployed, KnownGoodVersion: deployed, DesiredVersion: desired,
		Conditions: v1.Conditions{{Type: v1.ConditionReady, Status: s, Reason: reason, Message: reason + " message", LastTransitionTime: time.Now().UTC()}}}
	if len(reconciling) > 0 {
		st.Conditions = append(st.Conditions, v1.Condition{Type: v1.ConditionReconciling, Status: v1.ConditionFalse, Reason: reconciling[0]})
	}
	return st
}

var _ = Describe("Notifier", func() {
	var (
		rcv     *receiver
		url     string
		state   *store.Store
		started []context.CancelFunc
	)
	BeforeEach(func() {
		rcv, url = newReceiver()
		var err error
		state, err = store.Open(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		started = nil
		DeferCleanup(func() {
			for _, c := range started {
				c()
			}
		})
	})
	// process starts a notifier as one process would, watching writes to the state directory.
	process := func() *metrics.ObservedStore {
		n := notify.New(notify.Options{URL: url, Secret: "hook-secret", Store: state, Backoff: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		started = append(started, cancel)
		n.Start(ctx)
		return metrics.WrapStore(state, n)
	}
	eventually := func() AsyncAssertion {
		return Eventually(rcv.types).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond)
	}

	It("announces each change once per object, reason and version, signed", func() {
		s := process()
		By("a failed test, written three times as sweeps and reconciles repeat it")
		for range 3 {
			Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonTestsFailed, "1.2.0+1.2", "1.1.0+1.1", "1.2.0+1.2"))).To(Succeed())
		}
		eventually().Should(Equal([]notify.EventType{notify.EventTestFailed}))
		Consistently(rcv.types).WithTimeout(200 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(HaveLen(1))
		rcv.mu.Lock()
		Expect(rcv.events[0]).To(And(HaveField("Name", "app"), HaveField("Version", "1.2.0+1.2"), HaveField("Deployed", "1.1.0+1.1"), HaveField("Reason", v1.ReasonTestsFailed)))
		Expect(rcv.sigs[0]).To(Equal(notify.Sign("hook-secret", rcv.bodies[0])))
		rcv.mu.Unlock()

		By("the spec going back to the deployed version: recovered")
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonAlreadyDeployed, "1.2.0+1.2", "1.1.0+1.1", "1.1.0+1.1"))).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventTestFailed, notify.EventRecovered}))

		By("a promotion, and the converged reconciles after it staying quiet")
		for range 2 {
			Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonPromoted, "1.3.0+1.3", "1.3.0+1.3", "1.3.0+1.3"))).To(Succeed())
		}
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonAlreadyDeployed, "1.3.0+1.3", "1.3.0+1.3", "1.3.0+1.3"))).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventTestFailed, notify.EventRecovered, notify.EventPromoted}))

		By("a MAJOR bump held, then a rolled-back promotion")
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonMajorUpgradeHeld, "", "1.3.0+1.3", "2.0.0+2.0"))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonPromotionFailed, "2.0.0+2.0", "1.3.0+1.3", "2.0.0+2.0", v1.ReasonRolledBack))).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventTestFailed, notify.EventRecovered, notify.EventPromoted, notify.EventHeld, notify.EventRolledBack}))

		By("a RecipeTest status announcing nothing")
		Expect(s.Put(v1.KindRecipeTest, "app", v1.RecipeTestStatus{})).To(Succeed())
		Consistently(rcv.types).WithTimeout(200 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(HaveLen(5))
	})

	It("announces a drift once, its correction, and a degraded or stalled app, apart from Ready", func() {
		s := process()
		promoted := status(true, v1.ReasonPromoted, "1.1.0+1.1", "1.1.0+1.1", "1.1.0+1.1")
		Expect(s.Put(v1.KindWarmCanonical, "app", promoted)).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventPromoted}))

		By("a hand edit found, and the status written again by later reconciles")
		t0 := time.Now().UTC()
		drifted := promoted
		drifted.Conditions = append(slices.Clone(promoted.Conditions), v1.Condition{Type: v1.ConditionDrifted, Status: v1.ConditionTrue, Reason: v1.ReasonSpecDrift,
			Message: "live services differ from the applied spec: warm_app_app: [Mode.Replicated.Replicas]", LastTransitionTime: t0})
		for range 3 {
			Expect(s.Put(v1.KindWarmCanonical, "app", drifted)).To(Succeed())
		}
		eventually().Should(Equal([]notify.EventType{notify.EventPromoted, notify.EventDrifted}))
		Consistently(rcv.types).WithTimeout(200*time.Millisecond).WithPolling(20*time.Millisecond).Should(HaveLen(2), "one drift, one event; Promoted not repeated")
		rcv.mu.Lock()
		Expect(rcv.events[1].Message).To(ContainSubstring("Mode.Replicated.Replicas"))
		rcv.mu.Unlock()

		By("spec.drift: correct putting it back")
		corrected := promoted
		corrected.Conditions = append(slices.Clone(promoted.Conditions), v1.Condition{Type: v1.ConditionDrifted, Status: v1.ConditionFalse, Reason: v1.ReasonNoDrift,
			Message: "corrected: warm_app_app: [Mode.Replicated.Replicas]", LastTransitionTime: t0.Add(time.Second)})
		Expect(s.Put(v1.KindWarmCanonical, "app", corrected)).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventPromoted, notify.EventDrifted, notify.EventDriftCorrected}))

		By("tasks failing at the known-good version, then a task away from its data")
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonDegraded, "1.1.0+1.1", "1.1.0+1.1", "1.1.0+1.1"))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonDataNodeMoved, "1.1.0+1.1", "1.1.0+1.1", "1.1.0+1.1"))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonAlreadyDeployed, "1.1.0+1.1", "1.1.0+1.1", "1.1.0+1.1"))).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventPromoted, notify.EventDrifted, notify.EventDriftCorrected,
			notify.EventDegraded, notify.EventStalled, notify.EventRecovered}))
	})

	It("does not repeat yesterday's alert in tonight's sweep, a new process", func() {
		failed := status(false, v1.ReasonTestsFailed, "1.2.0+1.2", "1.1.0+1.1", "1.2.0+1.2")
		Expect(process().Put(v1.KindWarmCanonical, "app", failed)).To(Succeed())
		eventually().Should(HaveLen(1))
		Eventually(func() bool {
			ok, _ := state.Get(notify.KindNotifications, "app", &map[string]any{})
			return ok
		}).WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(BeTrue())

		Expect(process().Put(v1.KindWarmCanonical, "app", failed)).To(Succeed())
		Consistently(rcv.types).WithTimeout(300 * time.Millisecond).WithPolling(20 * time.Millisecond).Should(HaveLen(1))
	})

	It("delivers before the write returns in a one-shot command, which does not start it", func() {
		n := notify.New(notify.Options{URL: url, Store: state})
		s := metrics.WrapStore(state, n)
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonTestsFailed, "1.2.0+1.2", "1.1.0+1.1", "1.2.0+1.2"))).To(Succeed())
		Expect(rcv.types()).To(Equal([]notify.EventType{notify.EventTestFailed}))
		rcv.mu.Lock()
		Expect(rcv.sigs[0]).To(BeEmpty(), "no secret, no signature")
		rcv.mu.Unlock()
	})

	It("retries a receiver that fails, and never fails the write", func() {
		rcv.fail = 2
		Expect(process().Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonPromoted, "1.1.0+1.1", "1.1.0+1.1", "1.1.0+1.1"))).To(Succeed())
		eventually().Should(Equal([]notify.EventType{notify.EventPromoted}))
	})
})
