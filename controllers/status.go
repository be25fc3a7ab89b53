package controllers

import (
	"encoding/json"
	"reflect"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

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
