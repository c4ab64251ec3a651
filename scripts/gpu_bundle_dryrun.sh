#!/usr/bin/env bash
# Proves a GPU bundle complete on this machine, without a GPU: runs scripts/gpu_check.sh --bundle inside a mount
# namespace whose root is an overlay of / in which every file of the bundle's packages is deleted (overlayfs
# whiteouts), so CMake, the compiler, the linker and the loader can find them only in the unpacked bundle. The
# system's LibTorch 1.13 stands in for PyTorch's (--torch system). Then the built avsl lists its plugins and trains
# one short synthetic epoch, still inside the sandbox. Needs root (unshare, mount, chroot) and overlayfs.
#   scripts/gpu_bundle_dryrun.sh [BUNDLE_DIR] [BUILD_DIR]     defaults: .gpu-bundle, build-dryrun
#   AVSL_DRYRUN_TARGETS="avsl avsl_ezvsl avsl_datasets"       what is built (default: those three)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BUNDLE=$(realpath "${1:-.gpu-bundle}")
BUILD=${2:-build-dryrun}
TARGETS=${AVSL_DRYRUN_TARGETS:-avsl avsl_ezvsl avsl_datasets}
[ "$(id -u)" = 0 ] || { echo "gpu_bundle_dryrun: needs root (mount namespaces and chroot)" >&2; exit 77; }
[ -f "$BUNDLE/MANIFEST.tsv" ] || { echo "gpu_bundle_dryrun: no $BUNDLE/MANIFEST.tsv (run scripts/gpu_bundle.sh)" >&2; exit 1; }

# ccache's folder is shared with the sandbox, so a second dry run (or CI after a local one) compiles from the cache.
CACHE=${CCACHE_DIR:-$HOME/.cache/ccache}
mkdir -p "$CACHE"
sandbox=$(mktemp -d "${TMPDIR:-/tmp}/avsl_dryrun.XXXXXX")
trap 'rm -rf "$sandbox"' EXIT
mkdir -p "$sandbox/upper" "$sandbox/work" "$sandbox/root"
# A whiteout (character device 0/0) in the upper layer hides the file below. Parents are resolved first: on a
# merged-/usr system /lib is a symlink, and an upper /lib directory would shadow it for everything.
# Runtime packages that this system's own tools load (dpkg-deb needs libmd, cmake libcurl ...) stay visible: the GPU
# machine's tools bring their own copies, and hiding them here would break the tools, not the bundle. They are the
# closure of Debian's required/important packages and the toolchain; every dev package of the bundle is hidden.
declare -A tools_need=()
mapfile -t essential < <(dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" || $2 == "important" {print $1}')
essential+=(build-essential cmake ninja-build)
while read -r p; do tools_need[$p]=1; done < <(apt-cache depends --recurse --installed --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances "${essential[@]}" 2>/dev/null | grep -v '^[ <]' | sort -u)
installed=()
while IFS=$'\t' read -r pkg _ kind _; do
  [ "$pkg" = package ] && continue
  [ "$kind" = runtime ] && [ -n "${tools_need[$pkg]:-}" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && installed+=("$pkg")
done <"$BUNDLE/MANIFEST.tsv"
# Also gone on a bare machine, and deliberately left out of the bundle: OpenCV's CMake package (the libopencv-dev
# metapackage), OpenCV's imgcodecs and pkg-config; cmake/AvslDeps.cmake must do without them. (imgcodecs' runtime
# library stays: Debian's LibTorch 1.13, the stand-in for PyTorch's, links it; avsl's own targets cannot.)
for pkg in libopencv-dev libopencv-imgcodecs-dev pkgconf pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && installed+=("$pkg")
done
dpkg-query -L "${installed[@]}" | /usr/bin/python3 -c '
import os, stat, sys
upper, hidden = sys.argv[1], set()
for line in sys.stdin:
    f = line.rstrip("\n")
    if not f.startswith("/") or os.path.isdir(f) or not os.path.lexists(f):
        continue
    d = os.path.realpath(os.path.dirname(f))
    target = upper + d + "/" + os.path.basename(f)
    if target in hidden:
        continue
    os.makedirs(upper + d, exist_ok=True)
    os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))
    hidden.add(target)
print(f"gpu_bundle_dryrun: {len(hidden)} files of the bundle packages hidden from the build")
' "$sandbox/upper"

mkdir -p "$BUILD"
BUILD_ABS=$(realpath "$BUILD")
inner=$(cat <<EOF
set -euo pipefail
cd "$REPO"
# What the sandbox hides must really be gone, or the dry run proves nothing.
for probe in /usr/include/absl/status/status.h /usr/include/opencv4/opencv2/core.hpp /usr/include/sndfile.h \\
  /usr/lib/x86_64-linux-gnu/cmake/opencv4/OpenCVConfig.cmake /usr/bin/pkg-config \\
  /usr/include/opencv4/opencv2/imgcodecs.hpp /usr/lib/x86_64-linux-gnu/libopencv_imgcodecs.so; do
  [ ! -e "\$probe" ] || { echo "gpu_bundle_dryrun: \$probe is still visible in the sandbox" >&2; exit 1; }
done
scripts/gpu_check.sh --bundle "$BUNDLE" --torch system --build-dir "$BUILD" --targets "$TARGETS"
export LD_LIBRARY_PATH=\$(cat "$BUILD_ABS/deps/library_path")  # written by gpu_check.sh --bundle
"$BUILD/bin/avsl" plugins list | grep -E '^(ezvsl|datasets) +[0-9.]+ +loaded'
rm -rf "$BUILD/dryrun_runs"
"$BUILD/bin/avsl" train recipes/ezvsl/synthetic.toml --output-dir "$BUILD/dryrun_runs" --set train.epochs=1 \
  --set data.train.size=256 --set data.val.size=125 --set data.test.size=125 >"$BUILD/dryrun_train.log" 2>&1 ||
  { tail -20 "$BUILD/dryrun_train.log"; exit 1; }
ls "$BUILD"/dryrun_runs/ezvsl_synthetic/*/eval/test_last/metrics.json >/dev/null
echo "gpu_bundle_dryrun: built against the bundle alone, loaded its libraries, trained and scored an epoch"
EOF
)
unshare -m --propagation private bash -c "
  set -euo pipefail
  mount -t overlay avsl_dryrun -o lowerdir=/,upperdir='$sandbox/upper',workdir='$sandbox/work' '$sandbox/root'
  for d in /proc /dev /sys '$REPO' '$BUNDLE' '$CACHE' '$BUILD_ABS'; do mount --rbind \"\$d\" '$sandbox/root'\"\$d\"; done
  chroot '$sandbox/root' /bin/bash -c \"\$0\"
" "$inner"
