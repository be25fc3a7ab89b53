package controllers

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/resources"
)

// DefaultSettle is how long an object whose file vanished keeps its last good spec when Dir
// has no Settle: long enough for a git checkout or a directory rewrite to put the file back.
const DefaultSettle = 30 * time.Second

// FileProblem says why an object runs on its last good spec: its file cannot be read, no
// longer parses, or is absent. Reconcilers show it as the LastGoodSpec condition.
type FileProblem struct {
	// Reason is ReasonFileUnreadable, ReasonFileInvalid or ReasonFileAbsent.
	Reason string
	// File is the file that defined the last good spec.
	File string
	// Err is what is wrong with it.
	Err string
	// Until is, for an absent file, when the object is forgotten if the file is still absent.
	Until time.Time
}

// Message is the condition's message: file, error and what happens next.
func (p *FileProblem) Message() string {
	if p.Reason == v1.ReasonFileAbsent {
		return fmt.Sprintf("%s: %s; keeping the last good spec until %s, then the object is forgotten (its stack is left as it runs)", p.File, p.Err, p.Until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s: %s; keeping the last good spec until the file is fixed", p.File, p.Err)
}

// lastGood is the last valid spec seen of an object and the file it came from.
type lastGood struct {
	obj  v1.Object
	file string
	// absentSince is when the file was first found absent; zero while it is present.
	absentSince time.Time
	problem     *FileProblem
}

// keepLastGood updates the last good specs from a fresh load of the tree. A file is "clean"
// when it was read and every document of it could be named: only a clean file without an
// object, or an absence longer than settle, forgets the object. present lists the resource
// files found. Objects valid in set take their new spec.
func keepLastGood(good map[v1.Key]*lastGood, set *resources.Set, errs []error, present map[string]bool, now time.Time, settle time.Duration) {
	fileErr := map[string]string{}
	for _, e := range errs {
		var ve *v1.Error
		if errors.As(e, &ve) && ve.Name == "" && ve.File != "" && fileErr[ve.File] == "" {
			fileErr[ve.File] = strings.TrimPrefix(ve.Error(), ve.File+": ")
		}
	}
	for _, k := range set.Keys() {
		obj, _ := set.Get(k)
		o, _ := set.Origin(k)
		good[k] = &lastGood{obj: obj, file: o.File}
	}
	for k, g := range maps.Clone(good) {
		if _, ok := set.Get(k); ok {
			continue
		}
		switch {
		case len(set.InvalidErrors(k)) > 0:
			o, _ := set.Origin(k)
			g.problem = &FileProblem{Reason: v1.ReasonFileInvalid, File: o.File, Err: joinErrors(set.InvalidErrors(k), o.File)}
			g.absentSince = time.Time{}
		case fileErr[g.file] != "":
			reason := v1.ReasonFileInvalid
			if strings.HasPrefix(fileErr[g.file], "cannot read") {
				reason = v1.ReasonFileUnreadable
			}
			g.problem = &FileProblem{Reason: reason, File: g.file, Err: fileErr[g.file]}
			g.absentSince = time.Time{}
		case !present[g.file]:
			if g.absentSince.IsZero() {
				g.absentSince = now
			}
			g.problem = &FileProblem{Reason: v1.ReasonFileAbsent, File: g.file, Err: "file is absent", Until: g.absentSince.Add(settle)}
		default:
			// Read and parsed without the object: the operator removed it.
			delete(good, k)
		}
	}
}

// joinErrors joins an object's errors, without repeating the file name in each.
func joinErrors(errs []error, file string) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = strings.TrimPrefix(e.Error(), file+":")
		s[i] = strings.TrimSpace(s[i])
	}
	return strings.Join(s, "; ")
}

// Problem returns why kind/name runs on its last good spec, or nil when its file is fine (or
// it has no last good spec). Objects that are not a Dir have no such problems.
func Problem(objects Objects, kind, name string) *FileProblem {
	d, ok := objects.(*Dir)
	if !ok {
		return nil
	}
	if _, err := d.load(); err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.good[v1.Key{Kind: kind, Name: name}]
	if !ok || g.problem == nil {
		return nil
	}
	p := *g.problem
	return &p
}

// lastGoodFor returns the kept spec of key, forgetting it once its file has been absent past
// the settle time. Call with d.mu held.
func (d *Dir) lastGoodFor(key v1.Key) (v1.Object, bool) {
	g, ok := d.good[key]
	if !ok || g.problem == nil {
		return nil, false
	}
	if g.problem.Reason == v1.ReasonFileAbsent && !d.now().Before(g.problem.Until) {
		delete(d.good, key)
		return nil, false
	}
	return g.obj, true
}

func (d *Dir) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dir) settle() time.Duration {
	if d.Settle > 0 {
		return d.Settle
	}
	return DefaultSettle
}

// noteFile records in conds what the resource files say of an object whose load returned
// found (the object) or not: LastGoodSpec while it runs on its last good spec; once no file
// defines an object that has a status, Ready=Unknown with reason Removed, saying that its stack
// is left as it runs. A removed object is forgotten, never undeployed.
func noteFile(objects Objects, key v1.Key, found bool, conds *v1.Conditions, now time.Time) {
	if !found {
		conds.Remove(v1.ConditionLastGoodSpec)
		if len(*conds) == 0 {
			return // never reconciled: nothing to say
		}
		msg := fmt.Sprintf("%s %q is no longer defined in the resource files: it is forgotten, not undeployed", key.Kind, key.Name)
		if key.Kind == v1.KindWarmCanonical {
			msg += " (its stack is left as it runs; remove it with docker stack rm)"
		}
		conds.Set(v1.Condition{Type: v1.ConditionReady, Status: v1.ConditionUnknown, Reason: v1.ReasonRemoved, Message: msg}, now)
		conds.Remove(v1.ConditionReconciling)
		conds.Remove(v1.ConditionStalled)
		return
	}
	p := Problem(objects, key.Kind, key.Name)
	if p == nil {
		conds.Remove(v1.ConditionLastGoodSpec)
		return
	}
	conds.Set(v1.Condition{Type: v1.ConditionLastGoodSpec, Status: v1.ConditionTrue, Reason: p.Reason, Message: p.Message()}, now)
}

// settleRequeue is when an object kept for an absent file must be looked at again to be
// forgotten: just after its settle time; 0 when it need not be.
func settleRequeue(objects Objects, key v1.Key, now time.Time) time.Duration {
	p := Problem(objects, key.Kind, key.Name)
	if p == nil || p.Reason != v1.ReasonFileAbsent {
		return 0
	}
	return max(p.Until.Sub(now), 0) + 100*time.Millisecond
}
