package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/reconcile"
)

// namespace prefixes every metric name.
const namespace = "ccci"

// DeployedVersion is one warm app's deployed version, for the ccci_warm_deployed_version gauge.
type DeployedVersion struct {
	// Name is the WarmCanonical.
	Name string
	// Stack is its stack.
	Stack string
	// Version is the deployed version label; empty when nothing is deployed.
	Version string
	// Ready is whether its Ready condition is True (ccci_warm_ready).
	Ready bool
}

// Options configure a Recorder.
type Options struct {
	// DeployedVersions lists the warm apps' deployed versions; it is called at every scrape so
	// the gauge is right after a restart too, before anything changed. Optional.
	DeployedVersions func() []DeployedVersion
	// LastVerdicts lists each RecipeTest's last verdict, called at every scrape. Optional.
	LastVerdicts func() []LastVerdict
	// SweepInterval is the daemon's sweep period, exported for the overdue-sweep alert.
	// Optional; zero exports nothing.
	SweepInterval time.Duration
	// Now is the clock. Optional. Defaults to time.Now.
	Now func() time.Time
	// StateWriteErrors counts the failed writes to the state directory since start (a full
	// disk), for ccci_state_write_errors_total. Optional: without it the metric is absent.
	StateWriteErrors func() uint64
}

// Recorder holds the daemon's metrics on its own registry. It implements reconcile.Metrics and
// Observer. It is safe for concurrent use.
type Recorder struct {
	registry *prometheus.Registry
	now      func() time.Time

	reconciles   *prometheus.CounterVec
	durations    *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	queueDepth   prometheus.Gauge
	runs         *prometheus.CounterVec
	tierDuration *prometheus.HistogramVec
	promotions   *prometheus.CounterVec
	lastSweep    prometheus.Gauge
	drifted      *prometheus.GaugeVec
	degraded     *prometheus.GaugeVec
	drifts       *prometheus.CounterVec
	testImages   prometheus.Counter
	imageBytes   prometheus.Counter

	mu       sync.Mutex
	counted  map[string]bool // run ids and promotions already counted
	order    []string        // counted keys, oldest first, to bound the map
	maxSeen  int
	deployed func() []DeployedVersion

	verdicts      func() []LastVerdict
	sweepInterval time.Duration
}

var _ reconcile.Metrics = (*Recorder)(nil)

// New returns a Recorder with every metric registered, plus the Go and process collectors.
func New(opts Options) *Recorder {
	r := &Recorder{
		registry: prometheus.NewRegistry(),
		now:      opts.Now,
		counted:  map[string]bool{},
		maxSeen:  10000,
		deployed: opts.DeployedVersions,

		verdicts:      opts.LastVerdicts,
		sweepInterval: opts.SweepInterval,
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.reconciles = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "reconcile_total",
		Help: "Reconciles finished, by kind and result (success, requeue, error, terminal)."}, []string{"kind", "result"})
	r.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "reconcile_duration_seconds",
		Help:    "Duration of reconciles, by kind and result.",
		Buckets: []float64{0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 1800}}, []string{"kind", "result"})
	r.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "reconcile_retries_total",
		Help: "Keys put back with backoff after a failed reconcile, by kind."}, []string{"kind"})
	r.queueDepth = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "queue_depth",
		Help: "Keys ready and waiting for a worker."})
	r.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "test_runs_total",
		Help: "Finished test runs, by recipe test and verdict (Passed, Failed, Aborted)."}, []string{"recipetest", "verdict"})
	r.tierDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "tier_duration_seconds",
		Help:    "Duration of test tiers that ran, by recipe test, tier and result.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800}}, []string{"recipetest", "tier", "result"})
	r.promotions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "promotions_total",
		Help: "Finished promotions of warm apps, by WarmCanonical and result (Succeeded, Failed)."}, []string{"name", "result"})
	r.lastSweep = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "last_sweep_timestamp_seconds",
		Help: "Unix time at which the last sweep over every WarmCanonical ended; 0 before the first."})
	r.drifted = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "warm_drifted",
		Help: "1 while a warm app's live services differ from the applied spec (condition Drifted=True), else 0."}, []string{"name"})
	r.degraded = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "warm_degraded",
		Help: "1 while a warm app runs its known-good version but tasks fail or are unhealthy (Ready=False, Degraded), else 0."}, []string{"name"})
	r.drifts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "drift_detected_total",
		Help: "Drifts of warm apps found (Drifted turning True), once per drift, by WarmCanonical."}, []string{"name"})
	r.testImages = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "test_images_removed_total",
		Help: "Images removed from the nodes after test runs: pulled by the run, used by nothing else."})
	r.imageBytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "test_image_bytes_freed_total",
		Help: "Disk space freed by removing test runs' images, in bytes (engines before API 1.42 count an image whose layers other images share as 0)."})
	r.registry.MustRegister(r.reconciles, r.durations, r.retries, r.queueDepth, r.runs, r.tierDuration, r.promotions, r.lastSweep,
		r.drifted, r.degraded, r.drifts, r.testImages, r.imageBytes,
		deployedCollector{r}, stateCollector{r}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if f := opts.StateWriteErrors; f != nil {
		r.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "state_write_errors_total",
			Help: "Writes of status and run records to the state directory that failed (a full disk, an I/O error) since start."},
			func() float64 { return float64(f()) }))
	}
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Recorder) Handler() http.Handler {
	return promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{})
}

// Registry returns the registry, for tests and for adding collectors.
func (r *Recorder) Registry() *prometheus.Registry { return r.registry }

// ReconcileDone implements reconcile.Metrics.
func (r *Recorder) ReconcileDone(kind string, o reconcile.Outcome, d time.Duration) {
	r.reconciles.WithLabelValues(kind, string(o)).Inc()
	r.durations.WithLabelValues(kind, string(o)).Observe(d.Seconds())
}

// Retry implements reconcile.Metrics.
func (r *Recorder) Retry(kind string) { r.retries.WithLabelValues(kind).Inc() }

// QueueDepth implements reconcile.Metrics.
func (r *Recorder) QueueDepth(depth int) { r.queueDepth.Set(float64(depth)) }

// SweepDone records the end of a sweep over every WarmCanonical.
func (r *Recorder) SweepDone() { r.lastSweep.Set(float64(r.now().UnixNano()) / 1e9) }

// RunFinished counts a finished run once (by id, whatever the number of calls) with its
// verdict and the durations of the tiers that ran. A run still Running is ignored.
func (r *Recorder) RunFinished(recipeTest string, run v1.Run) {
	if run.Verdict == v1.VerdictRunning || run.Verdict == "" || run.FinishedAt == nil {
		return
	}
	if !r.once("run\x00" + recipeTest + "\x00" + run.ID) {
		return
	}
	r.runs.WithLabelValues(recipeTest, string(run.Verdict)).Inc()
	for _, t := range run.Tiers {
		if t.Result == v1.ResultPassed || t.Result == v1.ResultFailed {
			r.tierDuration.WithLabelValues(recipeTest, string(t.Name), string(t.Result)).Observe(t.Duration.Seconds())
		}
	}
}

// PromotionFinished counts a finished promotion once, keyed by name and start time.
func (r *Recorder) PromotionFinished(name, to string, started time.Time, result string) {
	if !r.once("promotion\x00" + name + "\x00" + to + "\x00" + started.UTC().Format(time.RFC3339Nano)) {
		return
	}
	r.promotions.WithLabelValues(name, result).Inc()
}

// TestImagesRemoved counts the images one test run's cleanup removed and the bytes it freed.
func (r *Recorder) TestImagesRemoved(images int, bytes int64) {
	r.testImages.Add(float64(images))
	r.imageBytes.Add(float64(bytes))
}

// once reports whether key is seen for the first time, remembering a bounded number of keys.
func (r *Recorder) once(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counted[key] {
		return false
	}
	r.counted[key] = true
	r.order = append(r.order, key)
	if len(r.order) > r.maxSeen {
		delete(r.counted, r.order[0])
		r.order = r.order[1:]
	}
	return true
}

// deployedCollector exposes ccci_warm_deployed_version{name,stack,version} = 1, read from the
// state at scrape time, so a restarted daemon reports it before anything changes.
type deployedCollector struct{ r *Recorder }

var deployedDesc = prometheus.NewDesc(namespace+"_warm_deployed_version",
	"Deployed version of each warm app, as a label; the value is always 1.",
	[]string{"name", "stack", "version"}, nil)

func (c deployedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deployedDesc }

func (c deployedCollector) Collect(ch chan<- prometheus.Metric) {
	if c.r.deployed == nil {
		return
	}
	for _, d := range c.r.deployed() {
		if d.Version == "" {
			continue
		}
		ch <- prometheus.MustNewConstMetric(deployedDesc, prometheus.GaugeValue, 1, d.Name, d.Stack, d.Version)
	}
}
