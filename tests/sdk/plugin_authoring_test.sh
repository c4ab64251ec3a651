#!/usr/bin/env bash
# Writing a method against the installed SDK, end to end and with no checkout path anywhere:
#  1. `avsl new-plugin` writes a folder that configures, builds, passes its own gtest, is listed by `avsl plugins
#     list`, trains on its synthetic recipe (which bases on the installed @avsl/ezvsl/synthetic.toml), and whose run
#     `avsl eval` scores without --plugin-path (the run remembers its plugins).
#  2. `avsl new-plugin --from ezvsl` builds.
#  3. docs/examples/margin_nce builds and, at margin 0, trains exactly as ezvsl.EZVSL (same losses, same val metrics).
# Usage: plugin_authoring_test.sh <build dir> <source dir>
set -euo pipefail
# Only the installed SDK may answer: a developer's search paths would bypass what this test is about.
unset AVSL_RECIPE_PATH AVSL_PLUGIN_PATH
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
work=$BUILD/sdk_authoring
rm -rf "$work"
mkdir -p "$work"
cmake --install "$BUILD" --prefix "$work/prefix" >/dev/null
avsl=$work/prefix/bin/avsl
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fail() { echo "FAIL: $*"; exit 1; }
build() {  # <source folder> <build folder>
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" \
    >"$2.configure.log" 2>&1 || { cat "$2.configure.log"; fail "configuring $1"; }
  cmake --build "$2" >"$2.build.log" 2>&1 || { cat "$2.build.log"; fail "building $1"; }
}
# Short runs: two epochs of three steps, small val/test splits.
short=(--set train.epochs=2 --set data.train.size=384 --set data.val.size=125 --set data.test.size=125)
# Run from a folder outside the checkout so nothing can resolve through the source tree's relative paths.
cd "$work"

# 1. The scaffold, from scratch.
"$avsl" new-plugin echo_loc --out "$work/echo_loc" >/dev/null
for f in CMakeLists.txt echo_loc.cc echo_loc_test.cc README.md synthetic.toml; do
  [ -f "$work/echo_loc/$f" ] || fail "new-plugin did not write $f"
done
# Nothing may point into the checkout's sources or its build tree's libraries (the work folder itself is under the
# build tree here, so the check names those folders rather than the checkout's root).
checkout="$SRC/(recipes|plugins|core|tools|datasets|docs)|$BUILD/lib/"
if grep -rnE "$checkout" "$work/echo_loc"; then fail "the generated folder names the checkout"; fi
"$avsl" new-plugin echo_loc --out "$work/echo_loc" >/dev/null 2>&1 && fail "new-plugin overwrote a folder"
"$avsl" new-plugin Bad-Name --out "$work/bad" 2>"$work/bad.err" && fail "new-plugin accepted a bad name"
grep -q "lowercase identifier" "$work/bad.err" || { cat "$work/bad.err"; fail "bad name message"; }
"$avsl" new-plugin ezvsl --out "$work/bad" 2>"$work/bad.err" && fail "new-plugin accepted a shipped plugin's name"
grep -q "a plugin 'ezvsl' already exists" "$work/bad.err" || { cat "$work/bad.err"; fail "shipped name message"; }
"$avsl" new-plugin echo_loc --from slavc --out "$work/bad" 2>"$work/bad.err" && fail "new-plugin accepted --from slavc"
grep -q "no template for 'slavc'; available: ezvsl" "$work/bad.err" || { cat "$work/bad.err"; fail "--from message"; }
[ ! -e "$work/bad" ] || fail "a refused new-plugin wrote $work/bad"
build "$work/echo_loc" "$work/echo_loc/build"
if [ -x "$work/echo_loc/build/echo_loc_test" ]; then
  (cd "$work/echo_loc/build" && ctest --output-on-failure >"$work/echo_loc_ctest.log" 2>&1) ||
    { cat "$work/echo_loc_ctest.log"; fail "the generated test"; }
else
  grep -q "GTest not found" "$work/echo_loc/build.configure.log" || fail "no test built and no reason given"
fi
out=$("$avsl" plugins list --plugin-path "$work/echo_loc/build")
echo "$out" | grep -Eq "^echo_loc +0\.1\.0 +loaded +$work/echo_loc/build/libavsl_echo_loc.so" ||
  { echo "$out"; fail "echo_loc not loaded"; }
echo "$out" | grep -Eq "method +echo_loc\.EchoLoc" || fail "echo_loc.EchoLoc not registered"
"$avsl" train "$work/echo_loc/synthetic.toml" --plugin-path "$work/echo_loc/build" --output-dir "$work/runs" \
  "${short[@]}" >"$work/echo_train.log" 2>&1 || { cat "$work/echo_train.log"; fail "training the scaffold"; }
run=$(ls -d "$work"/runs/echo_loc_synthetic/*/)
grep -q "pos_cos" "$run/log.txt" || fail "the epoch line lacks the method's diagnostics"
if grep -nE "$checkout" "$run/recipe.toml" "$run/env.json"; then fail "the run used the checkout"; fi
# The run remembers where its plugin was: no --plugin-path.
"$avsl" eval "$run" --checkpoint last --out "$work/echo_eval" >"$work/echo_eval.log" 2>&1 ||
  { cat "$work/echo_eval.log"; fail "avsl eval without --plugin-path"; }
grep -q "echo_loc" "$work/echo_eval.log" || fail "avsl eval did not say where echo_loc came from"
[ -f "$work/echo_eval/metrics.json" ] || fail "no metrics.json from avsl eval"

# 2. The scaffold from EZ-VSL's blocks (built; the same test file template ran above).
"$avsl" new-plugin ez_variant --from ezvsl.EZVSL --out "$work/ez_variant" >/dev/null
grep -q "TwoTowerLocalizer" "$work/ez_variant/ez_variant.cc" || fail "--from ezvsl is not a two-tower subclass"
build "$work/ez_variant" "$work/ez_variant/build"
"$avsl" recipe describe ez_variant.EzVariant --plugin-path "$work/ez_variant/build" | grep -q "weight" ||
  fail "ez_variant.EzVariant schema"

# 3. MarginNCE: at margin 0 the same run as EZ-VSL, step for step.
build "$SRC/docs/examples/margin_nce" "$work/margin_nce"
"$avsl" train "$SRC/docs/examples/margin_nce/synthetic.toml" --plugin-path "$work/margin_nce" \
  --output-dir "$work/runs" --set model.margin=0 "${short[@]}" >"$work/margin_train.log" 2>&1 ||
  { cat "$work/margin_train.log"; fail "training margin_nce"; }
"$avsl" train @avsl/ezvsl/synthetic.toml --output-dir "$work/runs" "${short[@]}" >"$work/ezvsl_train.log" 2>&1 ||
  { cat "$work/ezvsl_train.log"; fail "training ezvsl from the installed recipe"; }
/usr/bin/env python3 - "$work"/runs/margin_nce_synthetic/*/metrics.jsonl "$work"/runs/ezvsl_synthetic/*/metrics.jsonl <<'EOF'
import json, sys
def records(path):
    out = []
    for line in open(path):
        r = json.loads(line)
        out.append({k: v for k, v in r.items() if k not in ("wall_time", "samples_per_s")})
    return out
a, b = records(sys.argv[1]), records(sys.argv[2])
assert len(a) >= 4 and a == b, f"margin_nce at margin 0 differs from ezvsl:\n{a}\n{b}"
print(f"margin_nce at margin 0 == ezvsl.EZVSL over {len(a)} records (losses, pos/neg cosines, val metrics)")
EOF
echo "sdk: new-plugin scaffold built, tested, listed, trained and evaluated from the installed SDK; margin_nce == ezvsl"
