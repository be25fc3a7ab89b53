package server

import (
	"net/http"

	"coopcloud.tech/ccci-controller/internal/secrets"
)

// redactingMux is the server's mux with every response passed through secrets.Redact: the API
// and the dashboard show what recipes and Swarm said (errors, plans, logs), and a recipe
// controls that text. The store writes redacted records already; this catches what is computed
// per request, such as /api/v1/plan.
type redactingMux struct{ *http.ServeMux }

func (m redactingMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.ServeMux.ServeHTTP(redactingResponse{w}, r)
}

// redactingResponse redacts each Write. No handler sets Content-Length, which redaction
// would make wrong.
type redactingResponse struct{ http.ResponseWriter }

func (w redactingResponse) Write(p []byte) (int, error) {
	if _, err := w.ResponseWriter.Write(secrets.RedactBytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w redactingResponse) Unwrap() http.ResponseWriter { return w.ResponseWriter }
