# Sourced by abra before a deploy; bump a version when its file changes (Swarm configs are immutable).
export PG_BACKUP_VERSION=v1
