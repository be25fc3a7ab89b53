package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// Objects is the answer of GET /api/v1/objects.
type Objects struct {
	WarmCanonicals []WarmCanonicalView `json:"warmCanonicals"`
	RecipeTests    []RecipeTestView    `json:"recipeTests"`
}

// RunView is the answer of GET /api/v1/runs/{id}.
type RunView struct {
	RecipeTest string `json:"recipeTest"`
	Run        v1.Run `json:"run"`
}

// HandleState serves the read-only JSON API and the dashboard from st:
//
//	GET /api/v1/objects                      every object with its status
//	GET /api/v1/objects/{kind}/{name}        one object (kind: warmcanonical, wc, recipetest, rt)
//	GET /api/v1/runs/{id}                    one run
//	GET /api/v1/runs/{id}/logs/{tier}        one tier's log, as text
//	GET /runs/{id}/junit.xml                 one run as a JUnit report
//	GET /badges/{recipetest,warmcanonical}/{name}.svg   status badges (badges.go)
//	GET /                                    the dashboard; /recipes/{name}, /runs/{id}
//
// Reads need no token: they show what get and describe show. Put an authenticating proxy in
// front of a non-loopback listener if status and logs must stay private.
func (s *Server) HandleState(st State) {
	s.mux.HandleFunc("GET /api/v1/objects", func(w http.ResponseWriter, r *http.Request) {
		objs, err := loadObjects(r.Context(), st)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, objs)
	})
	s.mux.HandleFunc("GET /api/v1/objects/{kind}/{name}", func(w http.ResponseWriter, r *http.Request) {
		v, err := findObject(r.Context(), st, r.PathValue("kind"), r.PathValue("name"))
		if err != nil {
			writeStateError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
	s.mux.HandleFunc("GET /api/v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		rt, run, err := st.Run(r.Context(), r.PathValue("id"))
		if err != nil {
			writeStateError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, RunView{RecipeTest: rt, Run: run})
	})
	s.mux.HandleFunc("GET /api/v1/runs/{id}/logs/{tier}", func(w http.ResponseWriter, r *http.Request) {
		noWriteDeadline(w)
		data, err := st.Log(r.Context(), r.PathValue("id"), v1.TierName(r.PathValue("tier")))
		if err != nil {
			writeStateError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(data)
	})
	s.handleDashboard(st)
	s.handleJUnit(st)
	s.handleBadges(st)
}

// HandleSuspend serves POST /api/v1/objects/warmcanonical/{name}/suspend (body
// {"reason": "...", "by": "..."}) and .../resume, authenticated like triggers.
func (s *Server) HandleSuspend(sus Suspender) {
	s.mux.HandleFunc("POST /api/v1/objects/{kind}/{name}/{verb}", func(w http.ResponseWriter, r *http.Request) {
		body, ok := s.authorize(w, r)
		if !ok {
			return
		}
		if k := strings.ToLower(r.PathValue("kind")); k != "warmcanonical" && k != "wc" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("cannot suspend a %s (valid: warmcanonical)", r.PathValue("kind")))
			return
		}
		var req struct {
			Reason string `json:"reason"`
			By     string `json:"by"`
		}
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := dec.Decode(&req); err != nil {
				writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
				return
			}
		}
		name := r.PathValue("name")
		var err error
		resumed := false
		switch r.PathValue("verb") {
		case "suspend":
			err = sus.Suspend(r.Context(), name, req.Reason, req.By)
		case "resume":
			resumed, err = sus.Resume(r.Context(), name)
		default:
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown action %q (valid: suspend, resume)", r.PathValue("verb")))
			return
		}
		if err != nil {
			writeStateError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "action": r.PathValue("verb"), "resumed": resumed})
	})
}

// loadObjects reads every object.
func loadObjects(ctx context.Context, st State) (Objects, error) {
	wcs, err := st.WarmCanonicals(ctx)
	if err != nil {
		return Objects{}, err
	}
	rts, err := st.RecipeTests(ctx)
	if err != nil {
		return Objects{}, err
	}
	return Objects{WarmCanonicals: nonNil(wcs), RecipeTests: nonNil(rts)}, nil
}

// findObject returns the view of kind/name, kind as a user types it.
func findObject(ctx context.Context, st State, kind, name string) (any, error) {
	switch strings.ToLower(kind) {
	case "warmcanonical", "warmcanonicals", "wc":
		wcs, err := st.WarmCanonicals(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range wcs {
			if v.Name == name {
				return v, nil
			}
		}
		return nil, fmt.Errorf("WarmCanonical %q: %w", name, ErrNotFound)
	case "recipetest", "recipetests", "rt":
		rts, err := st.RecipeTests(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range rts {
			if v.Name == name {
				return v, nil
			}
		}
		return nil, fmt.Errorf("RecipeTest %q: %w", name, ErrNotFound)
	}
	return nil, fmt.Errorf("%w: unknown kind %q (valid: warmcanonical, wc, recipetest, rt)", ErrInvalid, kind)
}

func writeStateError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
