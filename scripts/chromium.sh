#!/usr/bin/env bash
# Prints the path of Debian's Chromium for the UI tests (Playwright drives it; its own browser
# download cannot run here), installing it from Debian's packages first when it is missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # One installer at a time on a shared machine.
  exec 9>/tmp/aml-chromium-install.lock
  flock 9
  if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium >&2
  fi
fi
command -v chromium
