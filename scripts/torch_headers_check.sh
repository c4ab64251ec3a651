#!/usr/bin/env bash
# Compiles every translation unit of avsl against the headers of newer LibTorch releases than this machine's 1.13,
# without installing them and without a GPU. Debian packages LibTorch's headers in libtorch-dev: trixie has 2.6, sid
# the newest (2.14.1 on 2026-12-07, whose headers require C++20). Together they bracket the
# PyTorch 2.x that CUDA machines run (docs/gpu.md).
#   scripts/torch_headers_check.sh [--jobs N] [--only REGEX] [SUITE ...]
#     SUITE          Debian suite names (default: trixie sid)
#     --only REGEX   check only the sources whose path matches
#
# For each suite: libtorch-dev and libgloo-dev of that suite are downloaded (apt-get download with a private apt
# state under .torch-headers/, nothing installed) and unpacked; a build folder configured (not built) with the
# system's 1.13 gives the compile commands. Then, in a private mount namespace where /usr/include's LibTorch and
# Gloo folders are empty, <torch/torch.h> is precompiled from the unpacked headers in place of the build's PCH, and
# every command runs with -fsyntax-only against them, in C++20 where that ATen.h demands it (as cmake/AvslDeps.cmake
# decides for a real build). Needs root, or unprivileged user namespaces (unshare -r).
# Writes .torch-headers/<suite>/report.txt (LibTorch version, standard, each failing file with its first errors)
# and exits 1 when any translation unit fails.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
JOBS=$(nproc)
ONLY=""
suites=()
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
    --only) ONLY=${2:?--only needs a regular expression}; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "torch_headers_check: unknown option $1" >&2; exit 2 ;;
    *) suites+=("$1"); shift ;;
  esac
done
[ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
for tool in apt-get dpkg-deb unshare cmake ninja /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "torch_headers_check: needs $tool" >&2; exit 1; }
done
if [ "$(id -u)" = 0 ]; then ns=(unshare --mount --propagation private); else ns=(unshare --map-root-user --mount); fi
"${ns[@]}" true 2>/dev/null || { echo "torch_headers_check: cannot make a mount namespace (${ns[*]})" >&2; exit 1; }

WORK=$REPO/.torch-headers
BUILD=$WORK/build
mkdir -p "$WORK"
# Compile commands of the whole tree (plugins, tests, benchmarks, tools), configured only: nothing is built.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$WORK/configure.log" 2>&1 ||
  { tail -20 "$WORK/configure.log"; echo "torch_headers_check: configure failed ($WORK/configure.log)" >&2; exit 1; }

status=0
for suite in "${suites[@]}"; do
  dir=$WORK/$suite
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs"
  echo "deb http://deb.debian.org/debian $suite main" >"$dir/apt/sources.list"
  apt=(-o Dir::Etc::SourceList="$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o Dir::State::Lists="$dir/apt/lists" -o Dir::Cache="$dir/apt/cache" -o Debug::NoLocking=1
       -o APT::Sandbox::User="$(id -un)")
  apt-get "${apt[@]}" -qq update || { echo "torch_headers_check: apt-get update for $suite failed" >&2; exit 1; }
  rm -rf "$dir/debs"/* "$dir/root"
  (cd "$dir/debs" && apt-get "${apt[@]}" -qq download libtorch-dev libgloo-dev) ||
    { echo "torch_headers_check: $suite has no libtorch-dev/libgloo-dev to download" >&2; exit 1; }
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  echo "torch_headers_check: $suite: $(cd "$dir/debs" && ls | paste -sd " ")"
  "${ns[@]}" bash -c '
    set -euo pipefail
    empty=$(mktemp -d)
    for d in ATen c10 torch caffe2 kineto gloo; do
      [ -d /usr/include/$d ] && mount --bind "$empty" /usr/include/$d
    done
    exec /usr/bin/python3 "$0/scripts/torch_headers_check.py" "$@"
  ' "$REPO" --compile-commands "$BUILD/compile_commands.json" --headers "$dir/root/usr/include" \
    --repo "$REPO" --jobs "$JOBS" --only "$ONLY" --report "$dir/report.txt" || status=1
done
exit $status
