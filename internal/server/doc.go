// Package server owns the daemon's HTTP surface: /healthz and /readyz (named checks), the
// authenticated JSON trigger endpoint POST /api/v1/trigger (bearer token or HMAC-SHA256 body
// signature, body limit, rate limit) that `--server` clients and Drone call, suspend and
// resume, the read-only JSON API (objects, runs, logs, plan), the server-rendered dashboard,
// and the client the commands use to reach a daemon. It authenticates, decodes and renders;
// it hands work to a Backend, a Suspender and a Planner and reads through a State, so it must
// not reconcile, deploy or open the state directory itself, and it imports no controller code
// (those interfaces are the seam, so imports keep flowing from cmd down).
package server
