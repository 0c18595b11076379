#!/usr/bin/env bash
# Checks docker-compose.yaml with Debian's docker-compose (installed when missing) and prints the
# resolved file: images cannot be pulled here, so the file is checked, and the same topology runs
# natively in tests/deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq docker-compose >&2
fi
docker-compose -f docker-compose.yaml config
