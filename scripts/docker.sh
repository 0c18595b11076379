#!/usr/bin/env bash
# Starts a private Docker engine for the integration tests (installing Debian's docker.io and
# debootstrap first when missing) and makes sure the local base image exists; prints the
# engine's URL (unix://...) on its last line. Nothing is pulled: the base image is a
# debootstrap rootfs imported once and kept in the engine's data root.
# Usage: scripts/docker.sh start|stop   (state: $AML_DOCKER_ROOT, default /var/lib/aml-docker)
set -euo pipefail
root=${AML_DOCKER_ROOT:-/var/lib/aml-docker}
socket=$root/docker.sock
pidfile=$root/dockerd.pid
base_image=${AML_BASE_IMAGE:-aml-python-base:bookworm}
export DOCKER_HOST=unix://$socket

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && docker version >/dev/null 2>&1; }

mirror() {
  # The first Debian mirror apt is configured with (deb822 or one-line format).
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 | awk '{print $2}' || true)
  [ -z "$uri" ] && uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $2}' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

case "${1:-start}" in
  start)
    if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq docker.io debootstrap >&2
    fi
    mkdir -p "$root"
    if ! running; then
      dockerd --storage-driver=vfs --iptables=false --bridge=none --data-root="$root/data" \
        --exec-root="$root/exec" --pidfile="$pidfile" --host="$DOCKER_HOST" \
        >"$root/dockerd.log" 2>&1 &
      for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
      docker version >/dev/null 2>&1 || { tail -n 20 "$root/dockerd.log" >&2; exit 1; }
    fi
    if ! docker image inspect "$base_image" >/dev/null 2>&1; then
      rootfs=$(mktemp -d "$root/rootfs.XXXXXX")
      echo "building $base_image with debootstrap (about 70 s, once)" >&2
      debootstrap --variant=minbase --include=python3,python3-venv bookworm "$rootfs" "$(mirror)" >&2
      tar -C "$rootfs" -c . | docker import - "$base_image" >&2
      rm -rf "$rootfs"
    fi
    echo "$DOCKER_HOST"
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
    ;;
esac
