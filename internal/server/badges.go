package server

import (
	"context"
	"net/http"
	"strings"

	v1 "coopcloud.tech/ccci-controller/api/v1"
)

// badgeMaxAge is how long a viewer or an image proxy (a forge's README renderer) may keep a
// badge: a few minutes, so a new verdict shows soon without every page view reaching us.
const badgeMaxAge = "max-age=300"

// Labels of the badges.
const (
	labelTested = "tested"
	labelWarm   = "warm"
)

// handleBadges serves the status badges for a recipe's README:
//
//	GET /badges/recipetest/{name}.svg     the last verdict: passing, failing, aborted, unknown
//	GET /badges/warmcanonical/{name}.svg  the deployed version, green when Ready
//
// They need no token, like /healthz: they show less than the dashboard's front page. An
// unknown name answers 404 with a "not found" badge, so a typo shows in the README too.
func (s *Server) handleBadges(st State) {
	s.mux.HandleFunc("GET /badges/recipetest/{file}", func(w http.ResponseWriter, r *http.Request) {
		s.serveBadge(w, r, labelTested, func(ctx context.Context, name string) (badge, bool, error) {
			rts, err := st.RecipeTests(ctx)
			for _, rt := range rts {
				if rt.Name == name {
					return recipeTestBadge(rt), true, nil
				}
			}
			return badge{}, false, err
		})
	})
	s.mux.HandleFunc("GET /badges/warmcanonical/{file}", func(w http.ResponseWriter, r *http.Request) {
		s.serveBadge(w, r, labelWarm, func(ctx context.Context, name string) (badge, bool, error) {
			wcs, err := st.WarmCanonicals(ctx)
			for _, wc := range wcs {
				if wc.Name == name {
					return warmCanonicalBadge(wc), true, nil
				}
			}
			return badge{}, false, err
		})
	})
}

func (s *Server) serveBadge(w http.ResponseWriter, r *http.Request, label string, find func(context.Context, string) (badge, bool, error)) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	b, found, err := badge{}, false, error(nil)
	if ok {
		b, found, err = find(r.Context(), name)
	}
	code := http.StatusOK
	switch {
	case err != nil:
		// The state could not be read: say so in the badge, and do not let it be cached.
		b, code = badge{Label: label, Message: "error", Color: colorUnknown}, http.StatusInternalServerError
	case !found:
		b, code = badge{Label: label, Message: "not found", Color: colorUnknown}, http.StatusNotFound
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if code == http.StatusInternalServerError {
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Cache-Control", badgeMaxAge)
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(b.SVG()))
}

// LastVerdict is the verdict of the newest finished run in runs (newest first) that is not a
// pull request's, or "" when there is none: the badge and the metrics speak for the recipe's
// own branch and tags, not for proposals to change them.
func LastVerdict(runs []v1.Run) v1.Verdict {
	for _, run := range runs {
		if run.PR == 0 && run.Verdict != v1.VerdictRunning && run.Verdict != "" {
			return run.Verdict
		}
	}
	return ""
}

// recipeTestBadge shows the last verdict: passing, failing, aborted or unknown.
func recipeTestBadge(rt RecipeTestView) badge {
	switch LastVerdict(rt.Status.Runs) {
	case v1.VerdictPassed:
		return badge{Label: labelTested, Message: "passing", Color: colorPassing}
	case v1.VerdictFailed:
		return badge{Label: labelTested, Message: "failing", Color: colorFailing}
	case "":
		return badge{Label: labelTested, Message: "unknown", Color: colorUnknown}
	default:
		return badge{Label: labelTested, Message: "aborted", Color: colorWarning}
	}
}

// warmCanonicalBadge shows the deployed version, green when Ready, red when not.
func warmCanonicalBadge(wc WarmCanonicalView) badge {
	v := wc.Status.DeployedVersion
	if v == "" {
		return badge{Label: labelWarm, Message: "not deployed", Color: colorUnknown}
	}
	if c, ok := wc.Status.Conditions.Get(v1.ConditionReady); ok && c.Status == v1.ConditionTrue {
		return badge{Label: labelWarm, Message: v, Color: colorPassing}
	}
	return badge{Label: labelWarm, Message: v + " not ready", Color: colorFailing}
}
