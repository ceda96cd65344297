#!/usr/bin/env bash
# The whole test suite: provision the cached toolbox (PyPI pins, uv, the conda fixture),
# then run every unit and integration test with nextest (cargo test if nextest is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/toolbox/provision.sh
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  cargo test --no-fail-fast "$@"
fi
