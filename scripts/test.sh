#!/usr/bin/env bash
# Set-up (packages, configure, build), then the whole test suite through ctest.
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L cli
set -euo pipefail
cd "$(dirname "$0")/.."
AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh
cd "${AVSL_BUILD_DIR:-build}"
ctest --output-on-failure -j"${AVSL_JOBS:-$(nproc)}" "$@"
