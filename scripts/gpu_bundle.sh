#!/usr/bin/env bash
# Downloads what a bare GPU machine lacks to build and test avsl against the LibTorch inside its PyTorch: the Debian
# dev packages of avsl's dependencies (headers, CMake packages, link symlinks) and every runtime library their shared
# objects load, found from the ELF dependency graph (what the dynamic loader opens, not the packages' Depends, which
# would drag in fonts, LLVM and Mesa), minus what every Linux with GCC has (glibc, libstdc++, libgcc_s, libgomp,
# libquadmath, zlib) and LibTorch's own libraries. Needs apt
# (no root): run it here, then carry the folder to the GPU machine (docs/gpu.md, scripts/gpu_check.sh --bundle).
#   scripts/gpu_bundle.sh [DIR]      DIR defaults to .gpu-bundle/ (git-ignored); AVSL_BUNDLE_LIMIT_MIB=60
# Writes DIR/*.deb, DIR/libboost1.74-dev.subset.tar.xz and DIR/MANIFEST.tsv (package, version, kind, file, bytes,
# sha256); prints the total and the largest
# packages, and exits 3 when the total exceeds the limit (the bundle is still complete).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.gpu-bundle}
LIMIT_MIB=${AVSL_BUNDLE_LIMIT_MIB:-60}
ARCH_LIB=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

# Headers, CMake packages and .so symlinks of each dependency scripts/setup.sh installs (minus LibTorch, which the
# PyTorch install provides). OpenCV: only the two modules avsl links, core and imgproc (cmake/AvslDeps.cmake finds
# them without the libopencv-dev metapackage); images go through libjpeg and libpng, not imgcodecs, whose Debian build
# loads GDAL, GDCM, OpenEXR and their dependencies (about 90 more packages, most of a bundle's size, and libraries such
# as libicuuc.so.72 that no other distribution release has).
DEV=(libabsl-dev libtomlplusplus-dev libopencv-core-dev libopencv-imgproc-dev
  libsndfile1-dev libfftw3-dev libpugixml-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libjpeg62-turbo-dev libpng-dev zlib1g-dev  # zlib.h: png.h's CMake module (FindPNG) requires it
  libtcmalloc-minimal4)  # tcmalloc: the CLI's allocator, a runtime package (no -dev needed)
# Boost is header-only for avsl and its -dev package is 9 MiB of headers: the bundle takes the ones this machine's
# build of avsl included (the build tree's dependency records) plus Boost.DLL, Config and Predef whole (their
# compiler- and platform-specific parts), and Boost's CMake package, as a tarball standing for libboost1.74-dev.
BOOST_PKG=libboost1.74-dev
BUILD_TREE=${AVSL_BUILD_DIR:-build}

for tool in apt-get apt-cache dpkg-deb dpkg-query ldd sha256sum; do
  command -v "$tool" >/dev/null || { echo "gpu_bundle: needs $tool (a Debian system)" >&2; exit 1; }
done
[ -f "$BUILD_TREE/.ninja_deps" ] ||
  { echo "gpu_bundle: no built tree at $BUILD_TREE (run scripts/setup.sh; AVSL_BUILD_DIR names another)" >&2; exit 1; }
for p in "${DEV[@]}" "$BOOST_PKG"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    { echo "gpu_bundle: $p is not installed here; run scripts/setup.sh first (the closure is read from it)" >&2; exit 1; }
done

# Runtime closure: the shared libraries the dev packages' link symlinks point at, and everything ldd says they load.
declare -A runtime=() base=()
# The baseline, left to the GPU machine: the C and C++ runtime of any Linux with GCC (glibc, libstdc++, libgcc_s,
# GCC's OpenMP and quadmath libraries) and zlib. Everything else is carried, even what every Debian has (libbsd ...):
# the machine may run another distribution, whose sonames differ (scripts/bundle_runtime_check.py checks the rest).
for p in libc6 libstdc++6 libgcc-s1 zlib1g libgomp1 libquadmath0 libcrypt1; do base[$p]=1; done
baseline_pkg() { [ -n "${base[$1]:-}" ]; }
for p in "${DEV[@]}"; do
  while read -r f; do
    [[ $f == $ARCH_LIB/*.so && -L $f ]] || continue
    real=$(readlink -f "$f")
    { echo "$real"; ldd "$real" | awk '$3 ~ /^\// {print $3}'; } | while read -r lib; do
      owner=$(dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1) ||
        owner=$(dpkg-query -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
      [ -n "$owner" ] && echo "$owner"
    done
  done < <(dpkg-query -L "$p")
done | sort -u >"${TMPDIR:-/tmp}/avsl_bundle_runtime.$$"
while read -r owner; do
  baseline_pkg "$owner" && continue
  case $owner in libtorch* | libc10*) continue ;; esac  # the PyTorch install brings LibTorch
  runtime[$owner]=1
done <"${TMPDIR:-/tmp}/avsl_bundle_runtime.$$"
rm -f "${TMPDIR:-/tmp}/avsl_bundle_runtime.$$"

mkdir -p "$DIR"
rm -f "$DIR"/*.deb "$DIR"/*.tar.xz "$DIR/MANIFEST.tsv"
packages=("${DEV[@]}" "${!runtime[@]}")
# As root, apt would drop to its _apt user, which cannot write into DIR: download as the caller.
(cd "$DIR" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" "${packages[@]}" >/dev/null)
boost_tar=$BOOST_PKG.subset.tar.xz
{
  ninja -C "$BUILD_TREE" -t deps | grep -o '/usr/include/boost/[^ ]*'
  find /usr/include/boost/dll /usr/include/boost/config /usr/include/boost/predef /usr/include/boost/dll.hpp \
    /usr/include/boost/config.hpp /usr/include/boost/predef.h -type f
  dpkg-query -L "$BOOST_PKG" | grep '/cmake/' | while read -r f; do [ -f "$f" ] && echo "$f"; done
} | sort -u | sed 's|^/||' | tar -cJf "$DIR/$boost_tar" -C / -T -
# The manifest names the package each file stands for (the dry run hides that package's files) and the file.
printf 'package\tversion\tkind\tfile\tbytes\tsha256\n' >"$DIR/MANIFEST.tsv"
total=0
add_row() {  # package version kind file
  local bytes
  bytes=$(stat -c %s "$DIR/$4")
  total=$((total + bytes))
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$bytes" "$(sha256sum "$DIR/$4" | cut -d' ' -f1)" \
    >>"$DIR/MANIFEST.tsv"
}
for deb in "$DIR"/*.deb; do
  name=$(dpkg-deb -f "$deb" Package)
  kind=runtime
  for p in "${DEV[@]}"; do [ "$p" = "$name" ] && kind=dev; done
  add_row "$name" "$(dpkg-deb -f "$deb" Version)" "$kind" "$(basename "$deb")"
done
add_row "$BOOST_PKG" "$(dpkg-query -W -f='${Version}' "$BOOST_PKG")" dev-subset "$boost_tar"
n=$(($(wc -l <"$DIR/MANIFEST.tsv") - 1))
mib=$(awk -v b="$total" 'BEGIN {printf "%.1f", b / 1048576}')
echo "gpu_bundle: $n packages (${#DEV[@]} dev, the Boost headers avsl uses, $((n - ${#DEV[@]} - 1)) runtime), $mib MiB in $DIR"
echo "largest:"
# awk stops printing, not reading: `head` would end the pipeline early, which pipefail turns into an error.
tail -n +2 "$DIR/MANIFEST.tsv" | sort -t$'\t' -k5 -n -r |
  awk -F'\t' 'NR <= 8 {printf "  %-28s %6.1f MiB  %s\n", $1, $5 / 1048576, $3}'
if awk -v b="$total" -v l="$LIMIT_MIB" 'BEGIN {exit !(b > l * 1048576)}'; then
  echo "gpu_bundle: $mib MiB exceeds the limit of $LIMIT_MIB MiB (AVSL_BUNDLE_LIMIT_MIB); the bundle is complete" >&2
  exit 3
fi
