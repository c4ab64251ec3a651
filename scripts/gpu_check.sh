#!/usr/bin/env bash
# CUDA check for a machine with an NVIDIA GPU and a PyTorch install: builds avsl against the LibTorch inside
# PyTorch (torch.utils.cmake_prefix_path) into build-cuda/, runs the CUDA-labelled tests, then the encoder
# train-step benchmark on the GPU. Prints the device and versions first so the figures can be recorded.
#   scripts/gpu_check.sh            (PYTHON=/path/to/python to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device visible to PyTorch"
print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0),
      "cxx11_abi", torch._C._GLIBCXX_USE_CXX11_ABI)
PY
# PyTorch wheels built with the pre-C++11 std::string ABI cannot link against Debian's Abseil/toml++/OpenCV
# (all C++11 ABI): check before spending minutes on a build that would fail at link time.
abi=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
if [ "$abi" != 1 ]; then
  echo "gpu_check: this PyTorch uses _GLIBCXX_USE_CXX11_ABI=0; install a cxx11-ABI build (PyTorch >= 2.7 wheels are)" >&2
  exit 1
fi
AVSL_BUILD_DIR=build-cuda AVSL_CMAKE_ARGS="-DAVSL_TORCH_FROM_PYTHON=ON -DAVSL_PYTHON=$PY" scripts/setup.sh
cd build-cuda
ctest -L cuda --output-on-failure
echo "== train step (forward+backward+Adam) on the GPU"
AVSL_BENCH_DEVICE=cuda ./benchmarks/encoders_bench --benchmark_filter='BM_(Image|Audio)'
echo "== the same on this machine's CPU, for the ratio"
./benchmarks/encoders_bench --benchmark_filter='BM_ImageW64_224/8|BM_ImageW16_64'
