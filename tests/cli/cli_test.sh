#!/usr/bin/env bash
# End-to-end checks of the avsl command line: exit codes, one-line errors, help for every subcommand.
# Usage: cli_test.sh <avsl binary> <source dir>
set -u
AVSL=$1
SRC=$2
failures=0
passed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect <name> <expected exit code> <regex that stdout+stderr must match> -- <command...>
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || ! cat "$tmp/out" "$tmp/err" | grep -Eq -- "$pattern"; then
    echo "FAIL: $name (exit $rc, expected $code; pattern '$pattern')"
    sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
}

expect "no command prints usage" 2 "usage: avsl <command>" -- "$AVSL"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$AVSL" frobnicate
expect "top-level help" 0 "commands:" -- "$AVSL" --help
expect "version" 0 "^avsl [0-9]+\.[0-9]+\.[0-9]+" -- "$AVSL" --version
for cmd in train eval score synth inspect plugins recipe report; do
  expect "$cmd --help" 0 "usage: avsl $cmd" -- "$AVSL" "$cmd" --help
  expect "$cmd unknown flag" 2 "unknown option '--no-such-flag'" -- "$AVSL" "$cmd" --no-such-flag
done

expect "plugins list shows in-tree plugin" 0 "center_prior +1\.0\.0 +loaded" -- "$AVSL" plugins list
expect "plugins list shows its components" 0 "method +center_prior\.CenterPrior" -- "$AVSL" plugins list
expect "plugins list shows core components" 0 "optimizer +core\.Adam" -- "$AVSL" plugins list
mkdir -p "$tmp/plugins"
echo "not a library" >"$tmp/plugins/libavsl_junk.so"
expect "failed plugin has a reason code" 0 "junk \[open_failed\] cannot open" -- "$AVSL" plugins list --plugin-path "$tmp/plugins"
AVSL_PLUGIN_PATH="$tmp/plugins" expect "AVSL_PLUGIN_PATH is searched" 0 "$tmp/plugins" -- "$AVSL" plugins list

expect "recipe dump resolves" 0 "sigma = 0.25" -- "$AVSL" recipe dump "$SRC/recipes/quickstart.toml"
expect "recipe dump applies --set" 0 "lr = 0.0003" -- "$AVSL" recipe dump "$SRC/recipes/quickstart.toml" --set optim.lr=3e-4
expect "recipe unknown key" 1 "^avsl recipe dump: error: unknown recipe key 'model.sigmaa' \[--set\]; did you mean 'sigma'" -- \
  "$AVSL" recipe dump "$SRC/recipes/quickstart.toml" --set model.sigmaa=1
expect "recipe error is one line" 1 "." -- "$AVSL" recipe dump "$SRC/recipes/quickstart.toml" --set model.sigmaa=1
[ "$(wc -l <"$tmp/err")" -eq 1 ] && passed=$((passed + 1)) || { echo "FAIL: error is not one line"; failures=$((failures + 1)); }
expect "recipe missing file" 1 "recipe file not found: /nonexistent.toml" -- "$AVSL" recipe dump /nonexistent.toml
printf 'base = ["%s"]\n[train]\nepochs = 3\n' "$SRC/recipes/quickstart.toml" >"$tmp/longer.toml"
expect "recipe diff" 0 "^\+ train.epochs = 3" -- "$AVSL" recipe diff "$SRC/recipes/quickstart.toml" "$tmp/longer.toml"
expect "recipe diff shows old value" 0 "^- train.epochs = 0" -- "$AVSL" recipe diff "$SRC/recipes/quickstart.toml" "$tmp/longer.toml"
expect "recipe diff of identical" 0 "no differences" -- "$AVSL" recipe diff "$SRC/recipes/quickstart.toml" "$SRC/recipes/quickstart.toml"
expect "recipe describe type" 0 "sigma +float +0.25" -- "$AVSL" recipe describe center_prior.CenterPrior
expect "recipe describe top level" 0 "train.select +string" -- "$AVSL" recipe describe
expect "recipe describe unknown" 1 "did you mean 'core.Adam'" -- "$AVSL" recipe describe core.Adma
expect "recipe unknown action" 2 "unknown action 'frob'" -- "$AVSL" recipe frob
expect "pending command says so" 1 "not available yet" -- "$AVSL" train "$SRC/recipes/quickstart.toml"

echo "cli: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
