#!/usr/bin/env bash
# Starts the gateway with its embedded defaults (SQLite, demo city, simulated cameras, console), after setup.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx gateway/src/main.ts "$@"
