package reconcile

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("queue", func() {
	var (
		clock *fakeClock
		q     *queue
		a     = Request{Kind: "RecipeTest", Name: "a"}
		b     = Request{Kind: "RecipeTest", Name: "b"}
	)

	BeforeEach(func() {
		clock = newFakeClock()
		q = newQueue(clock, Backoff{Base: time.Second, Max: 8 * time.Second, Jitter: -1}, NopMetrics{})
	})

	Context("when a key is added several times while queued", func() {
		It("hands it out once", func() {
			q.add(a)
			q.add(b)
			q.add(a)
			q.add(a)
			Expect(q.len()).To(Equal(2))
			got, ok := q.get()
			Expect(ok).To(BeTrue())
			Expect(got).To(Equal(a))
			got, _ = q.get()
			Expect(got).To(Equal(b))
			Expect(q.len()).To(BeZero())
		})
	})

	Context("when a key is added while it is being processed", func() {
		It("holds it back until done, then runs it exactly once more", func() {
			q.add(a)
			got, _ := q.get()
			Expect(got).To(Equal(a))

			By("adding it twice mid-reconcile")
			q.add(a)
			q.add(a)
			Expect(q.len()).To(BeZero(), "a key being processed must not be handed to a second worker")

			By("finishing the reconcile")
			q.done(a)
			Expect(q.len()).To(Equal(1))
			got, _ = q.get()
			Expect(got).To(Equal(a))
			q.done(a)
			Expect(q.len()).To(BeZero())
		})
	})

	Context("when a key keeps failing", func() {
		It("backs off exponentially up to the cap and starts over after a success", func() {
			var delays []time.Duration
			for range 5 {
				delays = append(delays, q.retry(a))
			}
			Expect(delays).To(Equal([]time.Duration{
				time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second,
			}))
			q.forget(a)
			Expect(q.retry(a)).To(Equal(time.Second))
		})

		It("makes the key ready only when its delay has passed", func() {
			q.retry(a)
			Expect(q.len()).To(BeZero())
			clock.Advance(999 * time.Millisecond)
			Expect(q.len()).To(BeZero())
			clock.Advance(time.Millisecond)
			Expect(q.len()).To(Equal(1))
		})
	})

	Context("when a key is added with several delays", func() {
		It("keeps the earliest", func() {
			q.addAfter(a, time.Minute)
			q.addAfter(a, 10*time.Second)
			q.addAfter(a, 30*time.Second)
			Expect(clock.Pending()).To(Equal([]time.Duration{10 * time.Second}))
			clock.Advance(10 * time.Second)
			Expect(q.len()).To(Equal(1))
			clock.Advance(time.Hour)
			Expect(q.len()).To(Equal(1), "the superseded timers must not add it again")
		})

		It("adds it at once for a zero delay", func() {
			q.addAfter(a, 0)
			Expect(q.len()).To(Equal(1))
		})
	})

	Context("when the queue shuts down", func() {
		It("wakes blocked workers, drops delayed adds and ignores new adds", func(ctx SpecContext) {
			q.addAfter(a, time.Second)
			got := make(chan bool)
			go func() {
				_, ok := q.get()
				got <- ok
			}()
			q.shutDown()
			Eventually(got).WithTimeout(time.Second).WithPolling(10 * time.Millisecond).Should(Receive(BeFalse()))
			Expect(clock.Pending()).To(BeEmpty())
			q.add(b)
			Expect(q.len()).To(BeZero())
		}, NodeTimeout(5*time.Second))
	})
})
