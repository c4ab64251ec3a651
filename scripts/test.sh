#!/usr/bin/env bash
# Set-up (packages, configure, build), then the whole test suite through ctest, then (for the whole suite) every
# fuzz target's committed inputs replayed under ASan + UBSan + LeakSanitizer (scripts/fuzz.sh replay,
# docs/robustness.md).
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L cli (ctest only)
#   scripts/test.sh --sanitize [torch-free]  AddressSanitizer + UndefinedBehaviorSanitizer (-O1, libstdc++
#                                            assertions): the torch-free tests and the CLI tests, built with the
#                                            whole tree into build-sanitize/; with torch-free, only the torch-free
#                                            core and its tests (no LibTorch, no plugins) into
#                                            build-sanitize-torch-free/, what CI runs
#   AVSL_FUZZ_SMOKE_SECONDS=n                also fuzz every target for n seconds (scripts/fuzz.sh smoke, a fixed
#                                            seed); default 0
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sanitize" ]; then
  scope=${2:-all}
  # The whole-tree build makes only what the torch-free and CLI tests run: the CLI, the plugins, the test plugins
  # and the torch-free test binaries (the other tests' binaries would double its time).
  torch_free_tests="data_formats_test data_preprocess_test loader_test metrics_test synth_test viz_test fuzz_regression_test"
  case $scope in
    all)
      dir=build-sanitize extra="" labels="torch_free|cli"
      targets="avsl avsl_plugins avsl_test_plugins local_launcher_test $torch_free_tests"
      ;;
    torch-free) dir=build-sanitize-torch-free extra="-DAVSL_TORCH_FREE_ONLY=ON" labels="torch_free" targets="" ;;
    *) echo "usage: scripts/test.sh --sanitize [torch-free]" >&2; exit 2 ;;
  esac
  AVSL_WITH_TEST_TOOLS=1 AVSL_BUILD_DIR=$dir AVSL_BUILD_TARGETS=$targets \
    AVSL_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Debug -DAVSL_SANITIZE=ON -DAVSL_BUILD_BENCHMARKS=OFF $extra" scripts/setup.sh
  # Leaks are findings in the torch-free build; LibTorch's process-lifetime allocations (and the plugin libraries
  # the host keeps on purpose) would bury the CLI's. halt_on_error: the first UBSan report fails the test.
  leaks=1
  [ "$scope" = all ] && leaks=0
  export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd "$dir" && ctest --output-on-failure -j"${AVSL_JOBS:-$(nproc)}" -L "$labels")
  exit
fi

AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh
(cd "${AVSL_BUILD_DIR:-build}" && ctest --output-on-failure -j"${AVSL_JOBS:-$(nproc)}" "$@")
if [ $# -eq 0 ]; then
  scripts/fuzz.sh replay
  smoke=${AVSL_FUZZ_SMOKE_SECONDS:-0}
  [ "$smoke" = 0 ] || scripts/fuzz.sh smoke "$smoke"
fi
