package metrics

import (
	"encoding/json"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/controllers"
)

// Observer is told what the controllers wrote to the state directory, after the write
// succeeded. It must be quick and must not fail the write: it runs on the writer's goroutine.
type Observer interface {
	// StatusWritten is called after the status of kind/name was stored; data is its JSON.
	StatusWritten(kind, name string, data []byte)
	// RunWritten is called after a run record of recipeTest was stored.
	RunWritten(recipeTest string, run v1.Run)
}

// ObservedStore is the controllers' StatusStore that tells its observers of every successful write. Watching the
// writes, rather than adding hooks to every reconcile step, sees each run and promotion
// exactly as get and the dashboard will.
type ObservedStore struct {
	controllers.StatusStore
	observers []Observer
}

// WrapStore returns inner with observers told of its writes.
func WrapStore(inner controllers.StatusStore, observers ...Observer) *ObservedStore {
	return &ObservedStore{StatusStore: inner, observers: observers}
}

// Put stores v and tells the observers.
func (s *ObservedStore) Put(kind, name string, v any) error {
	if err := s.StatusStore.Put(kind, name, v); err != nil {
		return err
	}
	if len(s.observers) == 0 {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil // stored already; an unmarshalable value is not the observers' business
	}
	for _, o := range s.observers {
		o.StatusWritten(kind, name, data)
	}
	return nil
}

// PutRun stores the run record v and tells the observers.
func (s *ObservedStore) PutRun(recipeTest, runID string, v any) error {
	if err := s.StatusStore.PutRun(recipeTest, runID, v); err != nil {
		return err
	}
	if len(s.observers) == 0 {
		return nil
	}
	run, ok := v.(v1.Run)
	if !ok {
		var decoded v1.Run
		data, err := json.Marshal(v)
		if err != nil || json.Unmarshal(data, &decoded) != nil {
			return nil
		}
		run = decoded
	}
	for _, o := range s.observers {
		o.RunWritten(recipeTest, run)
	}
	return nil
}
