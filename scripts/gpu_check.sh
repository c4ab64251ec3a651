#!/usr/bin/env bash
# CUDA check for a machine with an NVIDIA GPU and a cxx11-ABI PyTorch: builds avsl against the LibTorch inside
# PyTorch, runs the CUDA-labelled tests, times the encoder train step and a SLAVC epoch (fp32 and bf16) on the GPU,
# and writes one summary file. docs/gpu.md has the device command line.
#   scripts/gpu_check.sh [--bundle DIR] [--out DIR] [--build-dir DIR] [--torch python|system] [--targets "T ..."]
#     --bundle DIR   a folder written by scripts/gpu_bundle.sh: its packages are unpacked into a private prefix
#                    (never over /) and the build uses them; without it scripts/setup.sh installs them with apt
#     --out DIR      where summary.txt and the logs go (default: <build dir>/gpu_check)
#     --torch system LibTorch from the system instead of python3's PyTorch (the dry run of docs/gpu.md)
#     --targets      build only these targets and run no tests or timings (the dry run)
#   PYTHON=/path/to/python chooses the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
BUNDLE="" OUT="" BUILD=build-cuda TORCH=python TARGETS=""
while (($#)); do
  case $1 in
    --bundle) BUNDLE=$(realpath "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --torch) TORCH=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    *) echo "gpu_check: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$BUILD/gpu_check}
mkdir -p "$OUT"
summary=$OUT/summary.txt
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
start=$(date +%s)

cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
if command -v ccache >/dev/null; then  # as scripts/setup.sh: cache hits across build folders and clones
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
if [ "$TORCH" = python ]; then
  "$PY" - <<'PY' | tee -a "$summary"
import torch
assert torch.cuda.is_available(), "no CUDA device visible to PyTorch"
print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0),
      "cxx11_abi", torch._C._GLIBCXX_USE_CXX11_ABI)
PY
  # Wheels with the pre-C++11 std::string ABI cannot link against Debian's Abseil/toml++/OpenCV (C++11 ABI).
  abi=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  if [ "$abi" != 1 ]; then
    echo "gpu_check: this PyTorch uses _GLIBCXX_USE_CXX11_ABI=0; install a cxx11-ABI build (PyTorch >= 2.7 wheels are)" >&2
    exit 1
  fi
  cmake_args+=(-DAVSL_TORCH_FROM_PYTHON=ON "-DAVSL_PYTHON=$PY")
fi

if [ -n "$BUNDLE" ]; then
  # Fail fast: every package of the manifest present and intact before anything is unpacked or built.
  [ -f "$BUNDLE/MANIFEST.tsv" ] || { echo "gpu_check: $BUNDLE/MANIFEST.tsv missing (run scripts/gpu_bundle.sh)" >&2; exit 1; }
  missing=0
  while IFS=$'\t' read -r pkg version kind file bytes sha; do
    [ "$pkg" = package ] && continue
    if [ ! -f "$BUNDLE/$file" ]; then
      echo "gpu_check: bundle lacks $file ($pkg $version, $kind)" >&2
      missing=1
    elif [ "$(sha256sum "$BUNDLE/$file" | cut -d' ' -f1)" != "$sha" ]; then
      echo "gpu_check: $BUNDLE/$file does not match its SHA-256 in MANIFEST.tsv" >&2
      missing=1
    fi
  done <"$BUNDLE/MANIFEST.tsv"
  ((missing == 0)) || exit 1
  prefix=$(realpath -m "$BUILD/deps")
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for t in "$BUNDLE"/*.subset.tar.xz; do tar -xJf "$t" -C "$prefix"; done  # headers standing for a -dev package
  for deb in "$BUNDLE"/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$prefix"
    else  # not a Debian system: a .deb is an ar archive around data.tar.{xz,zst,gz}
      member=$(ar t "$deb" | grep '^data\.tar')
      case $member in *.xz) unpack=(xz -dc) ;; *.zst) unpack=(zstd -dc) ;; *.gz) unpack=(gzip -dc) ;; *) unpack=(cat) ;; esac
      ar p "$deb" "$member" | "${unpack[@]}" | tar -x -C "$prefix" -f -
    fi
  done
  # The bundle leaves glibc, libstdc++ and other base libraries to the machine: fail now, naming what is missing or
  # too old, rather than at the first link minutes into the build.
  "$PY" scripts/bundle_runtime_check.py "$prefix" 2>&1 | tee -a "$summary" ||
    { echo "gpu_check: this machine cannot run the bundle's libraries (above)" >&2; exit 1; }
  arch=$(gcc -dumpmachine)
  # Every folder of the prefix that holds shared libraries: Debian reaches some through update-alternatives links
  # that unpacking does not create (libblas.so.3 lives in .../openblas-pthread/).
  libdirs=$(find "$prefix" -name 'lib*.so*' \( -type f -o -type l \) -printf '%h\n' | sort -u | paste -sd:)
  echo "$libdirs" >"$prefix/library_path"  # what running the build needs on LD_LIBRARY_PATH (the dry run reads it)
  export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # pkg-config (when the machine has one) sees only the bundle; its .pc files say prefix=/usr.
  export PKG_CONFIG_LIBDIR="$prefix/usr/lib/$arch/pkgconfig:$prefix/usr/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR=$prefix
  rpath_link="-Wl,-rpath-link,${libdirs//:/ -Wl,-rpath-link,}"
  cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix/usr" "-DCMAKE_EXE_LINKER_FLAGS=$rpath_link"
    "-DCMAKE_SHARED_LINKER_FLAGS=$rpath_link" "-DCMAKE_MODULE_LINKER_FLAGS=$rpath_link")
  note "bundle: $(($(wc -l <"$BUNDLE/MANIFEST.tsv") - 1)) packages unpacked into $prefix"
  rm -f "$BUILD/CMakeCache.txt"
  cmake -S . -B "$BUILD" "${cmake_args[@]}" >"$OUT/configure.log" 2>&1 ||
    { tail -30 "$OUT/configure.log"; echo "gpu_check: configure failed ($OUT/configure.log)" >&2; exit 1; }
  build=(cmake --build "$BUILD" -j "$(nproc)")
  [ -n "$TARGETS" ] && build+=(--target $TARGETS)
  "${build[@]}" >"$OUT/build.log" 2>&1 ||
    { grep -E "error|FAILED" "$OUT/build.log" | head -30; echo "gpu_check: build failed ($OUT/build.log)" >&2; exit 1; }
else
  AVSL_BUILD_DIR=$BUILD AVSL_CMAKE_ARGS="${cmake_args[*]:3}" scripts/setup.sh  # setup.sh adds -G and the build type
fi
note "configured and built in $(($(date +%s) - start)) s: $(grep -m1 'avsl: LibTorch' "$OUT/configure.log" 2>/dev/null || echo "$BUILD")"
[ -n "$TARGETS" ] && { note "targets built: $TARGETS (no tests or timings)"; exit 0; }

(cd "$BUILD" && ctest -L cuda --output-on-failure >"$(realpath "$OUT")/ctest_cuda.log" 2>&1) && rc=0 || rc=$?
note "ctest -L cuda: $(grep -E 'tests passed|tests failed' "$OUT/ctest_cuda.log" | tail -1) (skipped: $(grep -c 'Skipped' "$OUT/ctest_cuda.log" || true))"
grep '\[ CUDA == CPU \]' "$OUT/ctest_cuda.log" | sed 's/^/  /' >>"$summary" || true

# Data parallelism on CUDA (docs/distributed.md, "GPUs"): which library carries CUDA tensors (NCCL where the build
# has it), then, on a machine with two or more GPUs, two ranks training one epoch under the local launcher.
note "data-parallel transport: $(grep -m1 'avsl: NCCL' "$OUT/configure.log" 2>/dev/null || echo '?')"
"$BUILD/tests/cuda_test" --gtest_filter='CommunicatorTransportTest.*' >"$OUT/transport.log" 2>&1 &&
  note "  CommunicatorTransportTest passed: $(grep -m1 '\[ transport \]' "$OUT/transport.log")" ||
  { note "  CommunicatorTransportTest failed ($OUT/transport.log)"; rc=1; }
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ "${gpus:-0}" -ge 2 ]; then
  run_out=$OUT/dist_2gpu
  rm -rf "$run_out"
  if "$BUILD/bin/avsl" train recipes/slavc/synthetic.toml --nproc-per-node 2 --output-dir "$run_out" \
    --set train.epochs=1 --set device='"cuda"' >"$run_out.log" 2>&1; then
    note "2 ranks on 2 GPUs (avsl train --nproc-per-node 2, recipes/slavc/synthetic.toml, 1 epoch): passed; $(grep -h -m1 'data-parallel:' "$run_out"/*/*/log.txt)"
  else
    note "2 ranks on 2 GPUs: failed ($run_out.log: $(tail -n 1 "$run_out.log"))"
    rc=1
  fi
else
  note "2 ranks on 2 GPUs: not run, this machine has ${gpus:-0} GPU (docs/distributed.md)"
fi

echo "== encoder train step (forward+backward+Adam) on the GPU; BM_Gpu*: ResNet18 at batch 128, fp32 and bf16" | tee -a "$summary"
AVSL_BENCH_DEVICE=cuda "$BUILD/benchmarks/encoders_bench" --benchmark_filter='BM_(Gpu|Image|Audio)' 2>&1 |
  grep -E '^BM_' | tee -a "$summary" || true
for amp in none bf16; do
  run_out=$OUT/slavc_$amp
  rm -rf "$run_out"
  "$BUILD/bin/avsl" train recipes/slavc/synthetic.toml --output-dir "$run_out" --set train.epochs=1 \
    --set device='"cuda"' --set amp="\"$amp\"" >"$run_out.log" 2>&1 || { note "SLAVC epoch ($amp): failed, see $run_out.log"; continue; }
  sps=$(grep -h '"split":"train_epoch"' "$run_out"/*/*/metrics.jsonl | sed -E 's/.*"samples_per_s":([0-9.]+).*/\1/' | tail -1)
  note "SLAVC synthetic epoch on cuda, amp=$amp: $sps samples/s (recipes/slavc/synthetic.toml, batch 128)"
done
# Full-size SLAVC steps (224 px, two ResNet18s + momentum copies) at batch 128 on Flickr-size files, fp32 and bf16,
# with the loader at two worker counts: does the input pipeline keep the GPU busy? (docs/performance.md)
bench_data=$OUT/bench_files
[ -f "$bench_data/metadata/flickr_train.txt" ] || "$BUILD/bin/avsl" synth --out "$bench_data" --preset bench >/dev/null
for amp in none bf16; do
  for workers in 8 14; do
    log=$OUT/bench_step_${amp}_w$workers.log
    util=$OUT/bench_step_${amp}_w$workers.util
    nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 250 >"$util" 2>/dev/null &
    smi=$!
    "$BUILD/bin/avsl" bench step recipes/bench/slavc_full_size.toml --set "data.train.root=\"$bench_data\"" \
      --set device='"cuda"' --set amp="\"$amp\"" --set channels_last=true --set data.batch_size=128 \
      --set data.workers=$workers --set threads=0 --steps 15 --warmup 3 >"$log" 2>&1 || true
    kill "$smi" 2>/dev/null || true
    # The busiest half of the samples: the run's start (plugins, model build) leaves the GPU idle.
    busy=$(sort -n "$util" | awk '{ v[NR] = $1 } END { s = 0; n = 0; for (i = int(NR / 2) + 1; i <= NR; ++i) { s += v[i]; ++n } if (n) printf "%.0f", s / n; else print "?" }')
    note "bench step SLAVC 224 px batch 128 amp=$amp workers=$workers: $(tail -n 1 "$log"); data wait $(grep '^data wait' "$log" | awk '{print $4}') %; GPU utilization (busiest half of nvidia-smi samples) $busy %"
  done
done
note "total $(($(date +%s) - start)) s"
exit "$rc"
