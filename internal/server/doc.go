// Package server owns the daemon's HTTP surface: /healthz, /readyz and the JSON trigger
// endpoint POST /api/v1/trigger that `--server` clients and Drone call. It authenticates and
// decodes requests and hands them to a Backend; it must not reconcile, deploy or read the
// state directory itself, and it imports no controller code (the Backend interface is the
// seam, so imports keep flowing from cmd down).
package server
