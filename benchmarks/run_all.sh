#!/usr/bin/env bash
# Runs the benchmarks one after the other; prints each one's table and
# RESULT line, then the RESULT lines together. No timed assertion: exit 0 unless a script
# itself failed (a wrong digest, a step that was not reused, ...).
#
#   bash benchmarks/run_all.sh            # from the repository root, with .venv set up
#   PYTHON=/path/to/python bash benchmarks/run_all.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LOG="$(mktemp -t aml-bench-XXXXXX.log)"
status=0

for bench in fingerprint_throughput warm_recheck reused_pipeline parse_pipeline; do
    echo "== ${bench} =="
    if ! "${PYTHON}" "benchmarks/${bench}.py" 2>&1 | tee -a "${LOG}"; then
        echo "!! ${bench} failed"
        status=1
    fi
    echo
done

echo "== results =="
grep '^RESULT ' "${LOG}" || true
rm -f "${LOG}"
exit "${status}"
