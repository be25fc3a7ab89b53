package recipe

import "sync/atomic"

// processes counts the git processes this package started, for the benchmarks and tests that
// hold a pass to its bound of processes (a converged app must cost none).
var processes atomic.Int64

// ProcessesStarted returns how many git processes this package has started in this process.
func ProcessesStarted() int64 { return processes.Load() }
