package controllers

import (
	"encoding/json"
	"reflect"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

func (r *WarmCanonicalReconciler) setReady(st *v1.WarmCanonicalStatus, ok bool, reason, msg string) {
	r.setCondition(st, v1.ConditionReady, ok, reason, msg)
}

func (r *WarmCanonicalReconciler) setReconciling(st *v1.WarmCanonicalStatus, ok bool, reason, msg string) {
	r.setCondition(st, v1.ConditionReconciling, ok, reason, msg)
}

func (r *WarmCanonicalReconciler) setCondition(st *v1.WarmCanonicalStatus, t string, ok bool, reason, msg string) {
	s := v1.ConditionFalse
	if ok {
		s = v1.ConditionTrue
	}
	st.Conditions.Set(v1.Condition{Type: t, Status: s, Reason: reason, Message: msg}, r.now())
}

func cloneStatus(st v1.WarmCanonicalStatus) v1.WarmCanonicalStatus {
	var c v1.WarmCanonicalStatus
	b, _ := json.Marshal(st)
	_ = json.Unmarshal(b, &c)
	return c
}

func statusEqual(a, b v1.WarmCanonicalStatus) bool {
	return reflect.DeepEqual(cloneStatus(a), cloneStatus(b))
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
