package reconcile

import (
	"sync"
	"time"
)

// queue is the keyed work queue, after client-go's workqueue. A key is in at most one of three
// places: ready (in order, waiting for a worker), processing (a worker holds it), or neither.
// dirty marks keys that must run again: a key added while ready is not queued twice, and a key
// added while processing is queued once more when its worker calls done, so an event that
// arrives mid-reconcile is never lost and never runs concurrently with the reconcile it
// interrupted. Delayed adds wait in waiting, one timer per key, the earliest wins.
type queue struct {
	clock   Clock
	backoff Backoff
	metrics Metrics
	rand    func() float64

	mu         sync.Mutex
	cond       *sync.Cond
	ready      []Request
	dirty      map[Request]struct{}
	processing map[Request]struct{}
	waiting    map[Request]*waiter
	failures   map[Request]int
	shutdown   bool
}

// waiter is a pending delayed add.
type waiter struct {
	at    time.Time
	timer Timer
}

func newQueue(clock Clock, backoff Backoff, metrics Metrics) *queue {
	q := &queue{
		clock:      clock,
		backoff:    backoff.withDefaults(),
		metrics:    metrics,
		rand:       jitterRand,
		dirty:      map[Request]struct{}{},
		processing: map[Request]struct{}{},
		waiting:    map[Request]*waiter{},
		failures:   map[Request]int{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// add marks req dirty and queues it unless it is already queued or being processed.
func (q *queue) add(req Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(req)
}

func (q *queue) addLocked(req Request) {
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[req]; ok {
		return
	}
	q.dirty[req] = struct{}{}
	if _, ok := q.processing[req]; ok {
		return
	}
	q.ready = append(q.ready, req)
	q.metrics.QueueDepth(len(q.ready))
	q.cond.Signal()
}

// addAfter adds req once d has passed. An earlier pending delayed add of the same key wins;
// a later one is replaced.
func (q *queue) addAfter(req Request, d time.Duration) {
	if d <= 0 {
		q.add(req)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	at := q.clock.Now().Add(d)
	if w, ok := q.waiting[req]; ok {
		if !at.Before(w.at) {
			return
		}
		w.timer.Stop()
	}
	w := &waiter{at: at}
	w.timer = q.clock.AfterFunc(d, func() { q.fire(req, w) })
	q.waiting[req] = w
}

// fire moves a delayed key to the queue, unless it was superseded by an earlier one.
func (q *queue) fire(req Request, w *waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting[req] != w {
		return
	}
	delete(q.waiting, req)
	q.addLocked(req)
}

// retry counts a failure of req and adds it back after the backoff delay for its streak. It
// returns the delay.
func (q *queue) retry(req Request) time.Duration {
	q.mu.Lock()
	q.failures[req]++
	d := q.backoff.Delay(q.failures[req], q.rand())
	q.mu.Unlock()
	q.addAfter(req, d)
	return d
}

// forget ends req's failure streak, so its next failure waits Backoff.Base again.
func (q *queue) forget(req Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, req)
}

// get blocks until a key is ready and hands it to the caller, who must call done with it. ok
// is false once the queue is shut down; keys still queued then are dropped, which is safe for
// a level-based controller: the next start re-reads everything.
func (q *queue) get() (req Request, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if q.shutdown {
		return Request{}, false
	}
	req = q.ready[0]
	q.ready[0] = Request{}
	q.ready = q.ready[1:]
	q.processing[req] = struct{}{}
	delete(q.dirty, req)
	q.metrics.QueueDepth(len(q.ready))
	return req, true
}

// done releases req after processing and queues it again if it was added meanwhile.
func (q *queue) done(req Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, req)
	if _, ok := q.dirty[req]; ok && !q.shutdown {
		q.ready = append(q.ready, req)
		q.metrics.QueueDepth(len(q.ready))
		q.cond.Signal()
	}
}

// len returns the number of ready keys.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready)
}

// shutDown stops handing out keys, wakes every waiting get and cancels delayed adds.
func (q *queue) shutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for req, w := range q.waiting {
		w.timer.Stop()
		delete(q.waiting, req)
	}
	q.cond.Broadcast()
}
