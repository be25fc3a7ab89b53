#!/usr/bin/env bash
# Makes this machine ready for the integration tests and the demo: a Docker engine in swarm mode.
# Idempotent: installs Debian's docker.io (and mmdebstrap, for the PostgreSQL image) only when
# missing, starts dockerd only when it is not answering, and initialises swarm only when swarm
# mode is inactive.
set -euo pipefail

log() { echo "ensure-swarm: $*" >&2; }

# Two make targets (or CI and a developer) may run this at once: without the lock both could
# start a dockerd. flock comes with util-linux, which every Debian has.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/ccci-ensure-swarm.lock"
  flock 9
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq docker.io </dev/null >/dev/null
fi

# The database sample's image (ccci-postgres:15) is made offline from Debian's packages with
# mmdebstrap (test/fixtures.BuildPostgresImage).
if ! command -v mmdebstrap >/dev/null 2>&1; then
  log "installing mmdebstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq mmdebstrap </dev/null >/dev/null
fi

# The image specs run a real registry on a loopback port (Debian's docker-registry), with
# htpasswd (apache2-utils) for the authenticated one (test/fixtures.StartRegistry).
if ! command -v docker-registry >/dev/null 2>&1 || ! command -v htpasswd >/dev/null 2>&1; then
  log "installing docker-registry and apache2-utils"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq docker-registry apache2-utils </dev/null >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  # 9>&-: dockerd must not inherit the lock, or every later run of this script waits forever.
  # setsid: dockerd gets a session and process group of its own, so that stopping the caller
  # (Ctrl-C in make demo, a CI step's process group) never stops the engine with it.
  setsid nohup dockerd </dev/null >/var/log/ccci-dockerd.log 2>&1 9>&- &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not answer within 60s; last log lines:"
    tail -n 20 /var/log/ccci-dockerd.log >&2 || true
    exit 1
  fi
fi

state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != "active" ]; then
  log "initialising swarm (state was: ${state:-unknown})"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi
# dockerd creates an overlay network's VXLAN device in the host's namespace and then moves it
# into the network's own; a join that fails in between (a busy or restarted engine) leaves the
# device behind, and every later network that draws the same VXLAN id fails its tasks with
# "error creating vxlan interface: file exists" for as long as it stays. None belongs in the
# host's namespace, so the ones found here, between suites, are removed.
if command -v ip >/dev/null 2>&1; then
  for dev in $(ip -o link show type vxlan 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^vx-'); do
    log "removing VXLAN device $dev that dockerd left in the host's namespace"
    ip link del "$dev" || true
  done
fi
log "docker $(docker version --format '{{.Server.Version}}') in swarm mode"
