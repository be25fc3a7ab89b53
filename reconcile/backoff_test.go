package reconcile

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Backoff", func() {
	DescribeTable("Delay",
		func(b Backoff, failures int, r float64, want time.Duration) {
			Expect(b.withDefaults().Delay(failures, r)).To(Equal(want))
		},
		Entry("first failure waits Base", Backoff{Jitter: -1}, 1, 0.5, time.Second),
		Entry("doubles per failure", Backoff{Jitter: -1}, 4, 0.5, 8*time.Second),
		Entry("caps at Max", Backoff{Jitter: -1}, 12, 0.5, 5*time.Minute),
		Entry("never overflows", Backoff{Jitter: -1}, 10_000, 0.5, 5*time.Minute),
		Entry("zero failures count as one", Backoff{Jitter: -1}, 0, 0.5, time.Second),
		Entry("jitter shortens by up to its fraction", Backoff{}, 1, 0.5, 900*time.Millisecond),
		Entry("jitter never exceeds the cap", Backoff{}, 20, 0.999, 5*time.Minute-time.Duration(float64(5*time.Minute)*0.2*0.999)),
		Entry("no randomness, no jitter", Backoff{}, 3, 0.0, 4*time.Second),
		Entry("custom base and max", Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: -1}, 4, 0.0, 50*time.Millisecond),
	)

	It("never waits less after more failures below the cap with the default jitter", func() {
		b := DefaultBackoff.withDefaults()
		for n := 1; n < 9; n++ { // until the cap, where jitter may undercut the previous step
			Expect(b.Delay(n+1, 0.999)).To(BeNumerically(">=", b.Delay(n, 0)), "failures %d", n)
		}
	})
})
