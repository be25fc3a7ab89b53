// Command app is the offline sample application of the sample recipe: a tiny HTTP server that
// the recipe tests deploy from local scratch images (ccci-sample-app:<version>), since no
// registry is reachable where the tests run. It serves /healthz, /version and /state on :8080,
// and doubles as its own tool set because a scratch image has no shell: the image's HEALTHCHECK
// runs "/app healthcheck", and the backupbot hooks of the recipe and the tests run subcommands
// such as "/app state get" through docker exec. It must stay dependency-free and small: it is a
// fixture, not part of the controller.
//
// Usage:
//
//	app [serve]             serve HTTP on :8080 (the default)
//	app healthcheck         exit 0 when /healthz answers 200, 1 otherwise
//	app version             print the baked-in version (env APP_VERSION)
//	app state get           print the state stored in /data/state
//	app state set VALUE     store VALUE in /data/state (atomic write)
//	app state clear         remove /data/state
//	app state flush         fsync /data/state; leaves the marker /tmp/state-flushed
//	app touch FILE...       create FILE (and its parent directories) or update its time
//	app exists FILE...      exit 0 when every FILE exists, 1 otherwise
//	app cat FILE...         print the files
//
// Environment: APP_VERSION (baked into the image), SAMPLE_UNHEALTHY=true makes /healthz answer
// 503 and the healthcheck subcommand fail without asking the server, SAMPLE_DATA_DIR overrides
// /data, MOTD_FILE overrides /etc/motd (served on /motd).
package main
