#!/usr/bin/env bash
# Run pytest and make "no tests collected" (exit 5) a loud failure: an empty suite must
# never pass as green, and a selection that matches nothing is a mistake worth seeing.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
"$VENV/bin/python" -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "run-tests: pytest collected no tests (exit 5) - treated as a failure." >&2
  exit 1
fi
exit "$status"
