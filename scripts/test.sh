#!/usr/bin/env bash
# Runs the whole suite: setup (with Chromium), lint (including import boundaries), type checks, vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
echo "[test] lint"
npx eslint . --max-warnings 0
echo "[test] type check"
npx tsc -p tsconfig.json --noEmit
npx tsc -p console/tsconfig.json --noEmit
echo "[test] vitest (unit, integration with real ffmpeg + simulator + SQLite, end-to-end in Chromium)"
mkdir -p var
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=var/vitest-report.json "$@" || status=$?
if [ -f var/vitest-report.json ]; then
  node -e 'const r=require("./var/vitest-report.json"); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests+r.numTodoTests} skipped`)'
fi
exit $status
