#!/usr/bin/env bash
# Idempotent set-up: installs the Debian packages the build needs (only when something is missing),
# then configures (CMake + Ninja, ccache when present) and builds Release into build/.
# Quiet when everything is already in place.
#   scripts/setup.sh [--no-build]
#   AVSL_BUILD_DIR=dir  AVSL_JOBS=n  AVSL_CMAKE_ARGS="..."  AVSL_WITH_TEST_TOOLS=1 (python3-torch etc.)
#   AVSL_BUILD_TARGETS="a b"  build only these targets (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libtorch-dev libgloo-dev libopenblas0-pthread libopencv-dev libjpeg-dev libpng-dev libboost-dev
  libtomlplusplus-dev libabsl-dev libbenchmark-dev libgtest-dev libgmock-dev libsndfile1-dev
  nlohmann-json3-dev libpugixml-dev libfftw3-dev libtcmalloc-minimal4
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
)
# Test-only: parity tests against Python references, and the clang_format test, skip with a message without these;
# clang and its libFuzzer/sanitizer runtimes build the fuzz targets (scripts/fuzz.sh) that scripts/test.sh smokes;
# headless chromium opens the HTML report of `avsl report GRID --html` in tests/cli/grid_test.sh.
TEST_PACKAGES=(python3-torch python3-torchvision python3-numpy python3-scipy python3-pil python3-av clang-format clang libclang-rt-14-dev
  chromium)

wanted=("${PACKAGES[@]}")
[ -n "${AVSL_WITH_TEST_TOOLS:-}" ] && wanted+=("${TEST_PACKAGES[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0

BUILD_DIR=${AVSL_BUILD_DIR:-build}
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
if command -v ccache >/dev/null; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # ccache only caches translation units that use the shared torch PCH with this sloppiness.
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  # Relative paths in the cache keys: a fresh clone elsewhere (CI) reuses what this checkout compiled.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD_DIR" "${cmake_args[@]}" ${AVSL_CMAKE_ARGS:-} >/dev/null
fi
# Each torch TU needs 1-1.6 GB; two jobs fit this machine. Ninja's progress lines are dropped.
log=$(mktemp)
targets=()
# shellcheck disable=SC2206
[ -n "${AVSL_BUILD_TARGETS:-}" ] && targets=(--target ${AVSL_BUILD_TARGETS})
if ! cmake --build "$BUILD_DIR" "${targets[@]}" -- -j"${AVSL_JOBS:-$(nproc)}" >"$log" 2>&1; then
  cat "$log"
  rm -f "$log"
  echo "setup: build failed" >&2
  exit 1
fi
grep -E 'warning|error' "$log" || true
rm -f "$log"
