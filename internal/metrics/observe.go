package metrics

import (
	"encoding/json"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// PromotionsKind is the store kind under which the controllers keep each WarmCanonical's
// promotion history (controllers.KindPromotions); the daemon checks the two agree.
const PromotionsKind = "Promotions"

// promotion is the part of a promotion history entry the metrics read.
type promotion struct {
	To         string     `json:"to"`
	State      string     `json:"state"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// StatusWritten implements Observer: a promotion history whose newest entry finished counts
// that promotion; a WarmCanonical status sets the drift and degraded gauges and counts a drift
// once, when Drifted turns True.
func (r *Recorder) StatusWritten(kind, name string, data []byte) {
	if kind == v1.KindWarmCanonical {
		r.warmStatus(name, data)
		return
	}
	if kind != PromotionsKind {
		return
	}
	var ps []promotion
	if json.Unmarshal(data, &ps) != nil || len(ps) == 0 || ps[0].FinishedAt == nil {
		return
	}
	r.PromotionFinished(name, ps[0].To, ps[0].StartedAt, ps[0].State)
}

// RunWritten implements Observer: a finished run is counted once.
func (r *Recorder) RunWritten(recipeTest string, run v1.Run) { r.RunFinished(recipeTest, run) }

func (r *Recorder) warmStatus(name string, data []byte) {
	var st v1.WarmCanonicalStatus
	if json.Unmarshal(data, &st) != nil {
		return
	}
	drifted, degraded := 0.0, 0.0
	// The drift counter starts at 0 for every warm app, so increase() sees the first drift.
	drifts := r.drifts.WithLabelValues(name)
	if c, ok := st.Conditions.Get(v1.ConditionDrifted); ok && c.Status == v1.ConditionTrue {
		drifted = 1
		if r.once("drift\x00" + name + "\x00" + c.LastTransitionTime.UTC().Format(time.RFC3339Nano)) {
			drifts.Inc()
		}
	}
	if c, ok := st.Conditions.Get(v1.ConditionReady); ok && c.Status == v1.ConditionFalse && c.Reason == v1.ReasonDegraded {
		degraded = 1
	}
	r.drifted.WithLabelValues(name).Set(drifted)
	r.degraded.WithLabelValues(name).Set(degraded)
}
