# Sourced by abra before a deploy; bump a version when its file changes (Swarm configs are immutable).
export MOTD_VERSION=v2
