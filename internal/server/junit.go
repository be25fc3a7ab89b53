package server

import (
	"bytes"
	"context"
	"io"
	"net/http"

	v1 "coopcloud.tech/ccci-controller/api/v1"
	"coopcloud.tech/ccci-controller/internal/junit"
)

// handleJUnit serves GET /runs/{id}/junit.xml: the run as a JUnit report, for a CI that
// fetches the report of a run it triggered. Readable like the run's page and logs.
func (s *Server) handleJUnit(st State) {
	s.mux.HandleFunc("GET /runs/{id}/junit.xml", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := WriteJUnit(r.Context(), st, r.PathValue("id"), &buf); err != nil {
			writeStateError(w, err)
			return
		}
		w.Header().Set("Content-Type", junit.ContentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(buf.Bytes())
	})
}

// WriteJUnit writes the JUnit report of run id, read through st, to w; ErrNotFound for an
// unknown run. The failed tiers' log tails are the logs the API serves. The trigger command
// writes its --junit file with it too, so the two reports are the same.
func WriteJUnit(ctx context.Context, st State, id string, w io.Writer) error {
	rt, run, err := st.Run(ctx, id)
	if err != nil {
		return err
	}
	return junit.Write(w, rt, run, func(t v1.TierName) []byte {
		data, err := st.Log(ctx, id, t)
		if err != nil {
			return nil
		}
		return data
	})
}
