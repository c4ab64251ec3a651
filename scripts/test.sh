#!/usr/bin/env bash
# Set-up (packages, configure, build), then the whole test suite through ctest, then (for the whole suite) every
# fuzz target's committed inputs replayed under ASan + UBSan + LeakSanitizer (scripts/fuzz.sh replay,
# docs/robustness.md).
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L cli (ctest only)
#   AVSL_FUZZ_SMOKE_SECONDS=n                also fuzz every target for n seconds (scripts/fuzz.sh smoke); default 0:
#                                            random mutation can find something new at any run, which must not
#                                            decide whether a change lands
set -euo pipefail
cd "$(dirname "$0")/.."
AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh
(cd "${AVSL_BUILD_DIR:-build}" && ctest --output-on-failure -j"${AVSL_JOBS:-$(nproc)}" "$@")
if [ $# -eq 0 ]; then
  scripts/fuzz.sh replay
  smoke=${AVSL_FUZZ_SMOKE_SECONDS:-0}
  [ "$smoke" = 0 ] || scripts/fuzz.sh smoke "$smoke"
fi
