#!/usr/bin/env bash
# The UI plugin's JavaScript bundle, built from airflow_ml_provider/plugins/www/src with the
# versions pinned in package-lock.json (npm ci). The built bundle is committed as package data,
# so that `pip install airflow-ml-provider` needs no Node.
#   scripts/ui_bundle.sh build   rebuild www/dist/main.umd.cjs
#   scripts/ui_bundle.sh check   fail if the committed bundle is not what the source builds
set -euo pipefail
www="$(cd "$(dirname "$0")/.." && pwd)/airflow_ml_provider/plugins/www"
cd "$www"
exec 9>"$www/.npm.lock"
flock 9
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
case "${1:-check}" in
  build)
    npx tsc --noEmit
    npx vite build --logLevel warn
    ;;
  check)
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
    npx tsc --noEmit
    npx vite build --logLevel warn --outDir "$out" >&2
    if ! cmp -s "$out/main.umd.cjs" dist/main.umd.cjs; then
      echo "airflow_ml_provider/plugins/www/dist/main.umd.cjs is not what src/ builds: run 'make ui' and commit it" >&2
      exit 1
    fi
    echo "bundle matches its source"
    ;;
esac
