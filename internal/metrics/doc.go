// Package metrics owns the daemon's Prometheus metrics: it implements the engine's
// reconcile.Metrics hooks (reconciles, durations, retries, queue depth), counts test runs by
// verdict, tier durations and promotions by watching what the controllers write to the state
// directory (WrapStore), exposes each warm app's deployed version as a gauge read at scrape
// time, and serves them all on one registry. It must not decide or change anything: it only
// observes, and an observer never fails or slows the write it watches.
package metrics
