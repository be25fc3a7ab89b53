package server

import (
	"context"
	"net/http"
	"time"
)

// Check is one named readiness check of /readyz.
type Check struct {
	// Name says what is checked: "docker", "swarm", "state".
	Name string
	// Run returns nil when the check passes; its error is shown to the prober.
	Run func(ctx context.Context) error
}

// checkTimeout bounds each readiness check, so a hung Docker daemon makes /readyz answer
// "not ready" rather than hang the prober.
const checkTimeout = 3 * time.Second

// readiness is the body of /readyz.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// serveReadyz answers 200 when the engine has loaded every object and every check passes,
// 503 otherwise, listing each check's result.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	res := readiness{Status: "ok", Checks: map[string]string{}}
	if s.opts.Ready != nil {
		res.Checks["engine"] = "ok"
		if !s.opts.Ready() {
			res.Status, res.Checks["engine"] = "not ready", "initial load not finished"
		}
	}
	for _, c := range s.opts.Checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := c.Run(ctx)
		cancel()
		res.Checks[c.Name] = "ok"
		if err != nil {
			res.Status, res.Checks[c.Name] = "not ready", err.Error()
		}
	}
	code := http.StatusOK
	if res.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, res)
}
