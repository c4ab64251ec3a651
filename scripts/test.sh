#!/usr/bin/env bash
# Set-up (packages, configure, build), then the whole test suite through ctest, then (for the whole suite) a
# smoke run of every fuzz target under ASan + UBSan (scripts/fuzz.sh, docs/robustness.md).
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L cli (ctest only)
#   AVSL_FUZZ_SMOKE_SECONDS=n                seconds per fuzz target (default 60; 0 skips the smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh
(cd "${AVSL_BUILD_DIR:-build}" && ctest --output-on-failure -j"${AVSL_JOBS:-$(nproc)}" "$@")
smoke=${AVSL_FUZZ_SMOKE_SECONDS:-60}
if [ $# -eq 0 ] && [ "$smoke" != 0 ]; then
  scripts/fuzz.sh smoke "$smoke"
fi
