#!/usr/bin/env bash
# Makes sure Debian's redis-server is installed (for the deployment test, which starts and stops
# its own Redis) and prints its path on its last line.
set -euo pipefail
if ! command -v redis-server >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq redis-server >&2
fi
command -v redis-server
