package notify_test

import (
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/metrics"
	"coopcloud.tech/ccci-controller/internal/notify"
	"coopcloud.tech/ccci-controller/internal/store"
)

var _ = Describe("Notifier links", func() {
	var (
		rcv    *receiver
		hook   string
		state  *store.Store
		asked  []string
		lookup notify.Lookup
	)
	BeforeEach(func() {
		rcv, hook = newReceiver()
		var err error
		state, err = store.Open(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		asked = nil
		// The warm app "app" is gated by the RecipeTest "app-tests"; run r-pass passed 1.3,
		// run r-fail failed 1.2.
		lookup = func(warm, version string, verdict v1.Verdict) notify.Subject {
			asked = append(asked, warm+" "+version+" "+string(verdict))
			s := notify.Subject{RecipeTest: warm + "-tests"}
			switch {
			case version == "1.3.0+1.3" && verdict == v1.VerdictPassed:
				s.Run = "r-pass"
			case version == "1.2.0+1.2" && verdict == v1.VerdictFailed:
				s.Run = "r-fail"
			}
			return s
		}
	})
	oneShot := func(public string, lookup notify.Lookup) *metrics.ObservedStore {
		opts := notify.Options{URL: hook, Store: state, Lookup: lookup}
		if public != "" {
			u, err := url.Parse(public)
			Expect(err).NotTo(HaveOccurred())
			opts.PublicURL = u
		}
		return metrics.WrapStore(state, notify.New(opts))
	}

	It("links the recipe's page and the reported run under --public-url, path prefix kept", func() {
		s := oneShot("https://ci.example.org/ccci/", lookup)
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonTestsFailed, "1.2.0+1.2", "1.1.0+1.1", "1.2.0+1.2"))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonPromoted, "1.3.0+1.3", "1.3.0+1.3", "1.3.0+1.3"))).To(Succeed())
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonMajorUpgradeHeld, "", "1.3.0+1.3", "2.0.0+2.0"))).To(Succeed())
		Expect(rcv.types()).To(Equal([]notify.EventType{notify.EventTestFailed, notify.EventPromoted, notify.EventHeld}))
		Expect(asked).To(Equal([]string{"app 1.2.0+1.2 Failed", "app 1.3.0+1.3 Passed", "app 2.0.0+2.0 "}))
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		Expect(rcv.events[0].URL).To(Equal("https://ci.example.org/ccci/recipes/app-tests"))
		Expect(rcv.events[0].RunURL).To(Equal("https://ci.example.org/ccci/runs/r-fail"))
		Expect(rcv.events[1].RunURL).To(Equal("https://ci.example.org/ccci/runs/r-pass"))
		Expect(rcv.events[2].URL).To(Equal("https://ci.example.org/ccci/recipes/app-tests"))
		Expect(rcv.events[2].RunURL).To(BeEmpty(), "a held version reports no run")
		Expect(string(rcv.bodies[2])).NotTo(ContainSubstring("runURL"))
	})

	It("names the RecipeTest like the warm app when nothing looks it up", func() {
		s := oneShot("http://ci.example.org:8089", nil)
		Expect(s.Put(v1.KindWarmCanonical, "app", status(true, v1.ReasonPromoted, "1.3.0+1.3", "1.3.0+1.3", "1.3.0+1.3"))).To(Succeed())
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		Expect(rcv.events).To(HaveLen(1))
		Expect(rcv.events[0].URL).To(Equal("http://ci.example.org:8089/recipes/app"))
		Expect(rcv.events[0].RunURL).To(BeEmpty())
	})

	It("carries no link without --public-url", func() {
		s := oneShot("", lookup)
		Expect(s.Put(v1.KindWarmCanonical, "app", status(false, v1.ReasonTestsFailed, "1.2.0+1.2", "1.1.0+1.1", "1.2.0+1.2"))).To(Succeed())
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		Expect(rcv.bodies).To(HaveLen(1))
		Expect(string(rcv.bodies[0])).NotTo(Or(ContainSubstring(`"url"`), ContainSubstring(`"runURL"`)))
		Expect(asked).To(BeEmpty(), "nothing to look up")
	})
})
