#!/usr/bin/env bash
# Usage: out_of_tree_test.sh <build dir> <source dir>
set -euo pipefail
BUILD=$1
SRC=$2
work=$BUILD/sdk_test
rm -rf "$work/prefix"
cmake --install "$BUILD" --prefix "$work/prefix" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$SRC/docs/examples/minimal_plugin" -B "$work/plugin" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/plugin" >/dev/null
out=$("$work/prefix/bin/avsl" plugins list --plugin-path "$work/plugin")
echo "$out"
echo "$out" | grep -Eq "^minimal +0\.1\.0 +loaded +$work/plugin/libavsl_minimal.so" || { echo "FAIL: minimal not loaded"; exit 1; }
echo "$out" | grep -Eq "method +minimal\.PatchMatch" || { echo "FAIL: component missing"; exit 1; }
# The installed host also finds the installed in-tree plugins with no configuration.
echo "$out" | grep -Eq "^center_prior +1\.0\.0 +loaded +$work/prefix/lib/avsl/plugins/" || { echo "FAIL: installed plugins"; exit 1; }
"$work/prefix/bin/avsl" recipe describe minimal.PatchMatch --plugin-path "$work/plugin" | grep -q "tau"
# The walk-through of docs/writing-a-plugin.md: its recipe trains and scores the plugin (shortened here).
rm -rf "$work/runs"
"$work/prefix/bin/avsl" train "$SRC/docs/examples/minimal_plugin/synthetic.toml" --plugin-path "$work/plugin" \
  --output-dir "$work/runs" --set train.epochs=1 --set data.train.size=128 --set data.val.size=64 \
  --set data.test.size=64 >"$work/train.log" 2>&1 || { cat "$work/train.log"; echo "FAIL: training the example"; exit 1; }
ls "$work"/runs/minimal_synthetic/*/eval/test_last/metrics.json >/dev/null || { echo "FAIL: no test metrics"; exit 1; }
echo "sdk: out-of-tree plugin built against the installed SDK, loaded, trained and scored"
