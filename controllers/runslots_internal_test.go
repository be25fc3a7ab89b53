package controllers

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"coopcloud.tech/ccci-controller/internal/swarm"
)

var _ = Describe("runSlots", func() {
	// queue starts a run of key that waits for a slot and returns the channel that says it got
	// one, once the wait is registered (so arrival order is the order of the calls).
	queue := func(s *runSlots, key string) chan struct{} {
		_, before := s.counts()
		got := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			Expect(s.acquire(context.Background(), key, nil)).To(Succeed())
			close(got)
		}()
		Eventually(func() int { _, q := s.counts(); return q }).WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(before + 1))
		return got
	}

	It("gives a freed slot to the recipe with the fewest runs going, not to the one that queued first", func() {
		s := newRunSlots(2)
		Expect(s.acquire(context.Background(), "a", nil)).To(Succeed())
		Expect(s.acquire(context.Background(), "a", nil)).To(Succeed())
		a3, a4 := queue(s, "a"), queue(s, "a")
		b1 := queue(s, "b")

		s.release("a")
		Eventually(b1).WithTimeout(5 * time.Second).Should(BeClosed())
		Consistently(a3).WithTimeout(50 * time.Millisecond).ShouldNot(BeClosed())

		By("handing slots on in arrival order among equals")
		s.release("a")
		Eventually(a3).WithTimeout(5 * time.Second).Should(BeClosed())
		Consistently(a4).WithTimeout(50 * time.Millisecond).ShouldNot(BeClosed())
		running, queued := s.counts()
		Expect([]int{running, queued}).To(Equal([]int{2, 1}))
	})

	It("drops a waiter whose context ended", func() {
		s := newRunSlots(1)
		Expect(s.acquire(context.Background(), "a", nil)).To(Succeed())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Expect(s.acquire(ctx, "b", nil)).To(MatchError(context.Canceled))
		_, queued := s.counts()
		Expect(queued).To(BeZero())
	})
})

var _ = DescribeTable("MaxRunsFor",
	func(nodes map[string]swarm.Node, want int) {
		Expect(MaxRunsFor(nodes)).To(Equal(want))
	},
	Entry("no nodes", map[string]swarm.Node{}, 1),
	Entry("one node of two CPUs", map[string]swarm.Node{"n1": {Availability: "active", State: "ready", CPUs: 2}}, 4),
	Entry("three nodes, one drained and one down", map[string]swarm.Node{
		"n1": {Availability: "active", State: "ready", CPUs: 4},
		"n2": {Availability: "drain", State: "ready", CPUs: 4},
		"n3": {Availability: "active", State: "down", CPUs: 4},
	}, 8),
)
