package reconcile

import "context"

// Channel is a Source that enqueues every Request received on C: triggers from the HTTP API,
// the CLI, and test runs that finished and want their owner reconciled. It has no initial load.
type Channel struct {
	// C delivers requests. Required. Closing it stops the source.
	C <-chan Request
}

// Start forwards requests from C until ctx ends or C is closed.
func (c Channel) Start(ctx context.Context, q Enqueuer) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case req, ok := <-c.C:
				if !ok {
					return
				}
				q.Enqueue(req)
			}
		}
	}()
	return nil
}
