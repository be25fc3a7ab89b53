package main

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
)

// maxStateBytes bounds a PUT /state body; the state is a marker, not a blob store.
const maxStateBytes = 1 << 20

// newServer returns the app's HTTP handler.
func newServer(cfg config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Unhealthy {
			http.Error(w, "unhealthy (SAMPLE_UNHEALTHY=true)", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, cfg.Version+"\n")
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		data, err := readState(cfg.statePath())
		switch {
		case errors.Is(err, fs.ErrNotExist):
			http.Error(w, "no state", http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Write(data)
		}
	})
	mux.HandleFunc("PUT /state", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStateBytes))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if err := writeState(cfg.statePath(), data); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /motd", func(w http.ResponseWriter, _ *http.Request) {
		data, err := os.ReadFile(cfg.MOTDFile)
		if err != nil {
			http.Error(w, "no motd", http.StatusNotFound)
			return
		}
		w.Write(data)
	})
	return mux
}
