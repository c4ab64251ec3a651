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

# Installed plugins find libavsl_core.so through their RPATH: $ORIGIN/../.. from lib/avsl/plugins is lib/.
dyn=$(readelf -d "$work/prefix/lib/avsl/plugins/libavsl_ezvsl.so")
echo "$dyn" | grep -Eq 'R(UN)?PATH.*\$ORIGIN/\.\./\.\.' || { echo "$dyn" | grep -E 'R(UN)?PATH'; echo "FAIL: installed plugin RPATH"; exit 1; }
deps=$(env -u LD_LIBRARY_PATH ldd "$work/prefix/lib/avsl/plugins/libavsl_ezvsl.so")
echo "$deps" | grep -Eq "libavsl_core\.so => .*/sdk_test/prefix/lib/" ||
  { echo "$deps"; echo "FAIL: the installed plugin does not resolve the installed libavsl_core.so"; exit 1; }
# Out of tree, the build RPATH names the SDK's lib/ (CMake derives it from the imported avsl::core), and so does the
# installed plugin's RPATH.
dyn=$(readelf -d "$work/plugin/libavsl_minimal.so")
echo "$dyn" | grep -Eq 'R(UN)?PATH.*/sdk_test/prefix/lib' || { echo "$dyn" | grep -E 'R(UN)?PATH'; echo "FAIL: out-of-tree build RPATH"; exit 1; }
rm -rf "$work/plugin_prefix"
cmake --install "$work/plugin" --prefix "$work/plugin_prefix" >/dev/null
installed=$(find "$work/plugin_prefix" -name libavsl_minimal.so | head -1)
[ -n "$installed" ] || { echo "FAIL: the out-of-tree plugin did not install"; exit 1; }
dyn=$(readelf -d "$installed")
echo "$dyn" | grep -Eq 'R(UN)?PATH.*/sdk_test/prefix/lib' || { echo "$dyn" | grep -E 'R(UN)?PATH'; echo "FAIL: installed out-of-tree plugin RPATH"; exit 1; }
out=$("$work/prefix/bin/avsl" plugins list --plugin-path "$(dirname "$installed")")
echo "$out" | grep -Eq "^minimal +0\.1\.0 +loaded +$installed" || { echo "$out"; echo "FAIL: installed out-of-tree plugin not loaded"; exit 1; }

# The shipped recipes are installed with the SDK, and a recipe anywhere bases on one by name.
for f in ezvsl/synthetic.toml _base_/runtime.toml quickstart.toml; do
  [ -f "$work/prefix/share/avsl/recipes/$f" ] || { echo "FAIL: recipes/$f not installed"; exit 1; }
done
mkdir -p "$work/recipes"
printf 'base = ["@avsl/ezvsl/synthetic.toml"]\nname = "by_name"\n\n[train]\nepochs = 3\n' >"$work/recipes/by_name.toml"
out=$(cd "$work/recipes" && env -u AVSL_RECIPE_PATH "$work/prefix/bin/avsl" recipe dump by_name.toml)
echo "$out" | grep -q "type = 'ezvsl.EZVSL'\|type = \"ezvsl.EZVSL\"" || { echo "$out"; echo "FAIL: base by name"; exit 1; }
echo "$out" | grep -Eq "^ *epochs = 3$" || { echo "$out"; echo "FAIL: the recipe's own keys"; exit 1; }
out=$(env -u AVSL_RECIPE_PATH "$work/prefix/bin/avsl" recipe dump @avsl/ezvsl/synthetic.toml)
echo "$out" | grep -q "ezvsl_synthetic" || { echo "$out"; echo "FAIL: recipe given by name"; exit 1; }
# The installed library looks in its own share/avsl/recipes, not in the source tree it was built from.
err=$(env -u AVSL_RECIPE_PATH "$work/prefix/bin/avsl" recipe dump @avsl/nope.toml 2>&1 || true)
echo "$err" | grep -Eq "looked for nope\.toml in [^,]*/sdk_test/prefix/share/avsl/recipes\)" ||
  { echo "$err"; echo "FAIL: installed recipe search path"; exit 1; }
# The walk-through of docs/writing-a-plugin.md: its recipe trains and scores the plugin (shortened here).
rm -rf "$work/runs"
"$work/prefix/bin/avsl" train "$SRC/docs/examples/minimal_plugin/synthetic.toml" --plugin-path "$work/plugin" \
  --output-dir "$work/runs" --set train.epochs=1 --set data.train.size=128 --set data.val.size=64 \
  --set data.test.size=64 >"$work/train.log" 2>&1 || { cat "$work/train.log"; echo "FAIL: training the example"; exit 1; }
ls "$work"/runs/minimal_synthetic/*/eval/test_last/metrics.json >/dev/null || { echo "FAIL: no test metrics"; exit 1; }
echo "sdk: out-of-tree plugin built against the installed SDK, installed, loaded, trained and scored; recipes by name"
