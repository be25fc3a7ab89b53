package main

import (
	"os"
	"path/filepath"
	"time"
)

// config is what the app reads from its environment.
type config struct {
	// Version is the baked-in version, env APP_VERSION.
	Version string
	// Unhealthy makes /healthz fail, env SAMPLE_UNHEALTHY=true.
	Unhealthy bool
	// DataDir holds the state file, env SAMPLE_DATA_DIR, default /data (the recipe's volume).
	DataDir string
	// MOTDFile is served on /motd, env MOTD_FILE, default /etc/motd (the recipe's config).
	MOTDFile string
	// CrashAfter makes the server exit with an error that long after it started, env
	// SAMPLE_CRASH_AFTER (a Go duration such as 10s); zero never.
	CrashAfter time.Duration
}

func configFromEnv() config {
	return config{
		Version:   envOr("APP_VERSION", "dev"),
		Unhealthy: os.Getenv("SAMPLE_UNHEALTHY") == "true",
		DataDir:   envOr("SAMPLE_DATA_DIR", "/data"),
		MOTDFile:  envOr("MOTD_FILE", "/etc/motd"),
		// An unparsable value is no crash: the sample must not fail on a typo of its own.
		CrashAfter: func() time.Duration { d, _ := time.ParseDuration(os.Getenv("SAMPLE_CRASH_AFTER")); return d }(),
	}
}

// statePath is the file that holds the state: <DataDir>/state.
func (c config) statePath() string { return filepath.Join(c.DataDir, "state") }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
