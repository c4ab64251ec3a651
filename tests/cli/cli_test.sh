#!/usr/bin/env bash
# End-to-end checks of the avsl command line: exit codes, one-line errors, help for every subcommand.
# Usage: cli_test.sh <avsl binary> <source dir>
set -u
AVSL=$1
SRC=$2
MAKE_VIDEO=${3:-}  # tests/cli/make_test_video: writes and probes the mp4 files of the avsl infer --video checks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=expect.sh
. "$(dirname "$0")/expect.sh"

expect "no command prints usage" 2 "usage: avsl <command>" -- "$AVSL"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$AVSL" frobnicate
expect "top-level help" 0 "commands:" -- "$AVSL" --help
expect "version" 0 "^avsl [0-9]+\.[0-9]+\.[0-9]+" -- "$AVSL" --version
for cmd in train eval infer data score synth inspect plugins recipe report bench grid; do
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

# A plugin directory with plugins that crash while registering, crash in a static constructor or have an unresolved
# symbol (tests/plugin_abi): each is probed in a child process, named with its reason, and the listing goes on.
broken_dir="$(dirname "$AVSL")/../test_plugins/broken"
if [ -d "$broken_dir" ]; then
  expect "plugins list survives a plugin that segfaults while registering" 0 \
    "libavsl_segfault +registration_failed" -- "$AVSL" plugins list --plugin-path "$broken_dir"
  grep -Eq "segfault \[registration_failed\] plugin file .*libavsl_segfault\.so crashed while registering its components|segfault \[registration_failed\] plugin file .*libavsl_segfault\.so ended the probe process while registering" "$tmp/out" &&
    grep -Eq "unresolved \[open_failed\] cannot open .*libavsl_unresolved\.so: .*undefined symbol: avsl_test_symbol_nobody_defines" "$tmp/out" &&
    grep -Eq "static_crash \[open_failed\] plugin file .*libavsl_static_crash\.so .* while being opened" "$tmp/out" &&
    grep -Eq "center_prior +[0-9.]+ +loaded" "$tmp/out" && passed=$((passed + 1)) ||
    { echo "FAIL: plugins list does not name the crashing plugins or lost the good ones"; sed 's/^/  | /' "$tmp/out" | tail -20; failures=$((failures + 1)); }
fi
# No relative surprises: a relative AVSL_PLUGIN_PATH entry is ignored with a warning, a relative --plugin-path is
# made absolute against the current directory.
in_tmp() { (cd "$tmp" && "$@"); }
AVSL_PLUGIN_PATH="plugins" expect "relative AVSL_PLUGIN_PATH entry is ignored" 0 \
  "warning: AVSL_PLUGIN_PATH entry 'plugins' ignored: it is relative" -- in_tmp "$AVSL" plugins list
grep -q "(ignored: relative entry of AVSL_PLUGIN_PATH) plugins" "$tmp/out" && ! grep -q "libavsl_junk" "$tmp/out" &&
  passed=$((passed + 1)) || { echo "FAIL: a relative AVSL_PLUGIN_PATH entry was searched"; failures=$((failures + 1)); }
in_tmp "$AVSL" plugins list --plugin-path plugins >"$tmp/out" 2>&1
grep -q "^  $tmp/plugins$" "$tmp/out" && grep -q "junk \[open_failed\]" "$tmp/out" && passed=$((passed + 1)) ||
  { echo "FAIL: a relative --plugin-path was not made absolute"; sed 's/^/  | /' "$tmp/out" | head; failures=$((failures + 1)); }

expect "recipe dump resolves" 0 "sigma = 0.25" -- "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml"
expect "recipe dump applies --set" 0 "lr = 0.0003" -- "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml" --set optim.lr=3e-4
expect "recipe unknown key" 1 "^avsl recipe dump: error: unknown recipe key 'model.sigmaa' \[--set\]; did you mean 'sigma'" -- \
  "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml" --set model.sigmaa=1
expect "recipe error is one line" 1 "." -- "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml" --set model.sigmaa=1
[ "$(wc -l <"$tmp/err")" -eq 1 ] && passed=$((passed + 1)) || { echo "FAIL: error is not one line"; failures=$((failures + 1)); }
expect "recipe missing file" 1 "recipe file not found: /nonexistent.toml" -- "$AVSL" recipe dump /nonexistent.toml
printf 'base = ["%s"]\n[train]\nepochs = 3\n' "$SRC/recipes/center_prior/synthetic.toml" >"$tmp/longer.toml"
expect "recipe diff" 0 "^\+ train.epochs = 3" -- "$AVSL" recipe diff "$SRC/recipes/center_prior/synthetic.toml" "$tmp/longer.toml"
expect "recipe diff shows old value" 0 "^- train.epochs = 0" -- "$AVSL" recipe diff "$SRC/recipes/center_prior/synthetic.toml" "$tmp/longer.toml"
expect "recipe diff of identical" 0 "no differences" -- "$AVSL" recipe diff "$SRC/recipes/center_prior/synthetic.toml" "$SRC/recipes/center_prior/synthetic.toml"
expect "recipe describe type" 0 "sigma +float +0.25" -- "$AVSL" recipe describe center_prior.CenterPrior
expect "recipe describe top level" 0 "train.select +string" -- "$AVSL" recipe describe
expect "recipe describe unknown" 1 "did you mean 'core.Adam'" -- "$AVSL" recipe describe core.Adma
expect "recipe unknown action" 2 "unknown action 'frob'" -- "$AVSL" recipe frob
expect "train needs a recipe" 2 "give either RECIPE or --resume RUN_DIR" -- "$AVSL" train
expect "train evaluates the centre prior" 0 "test \(last\)" -- "$AVSL" train "$SRC/recipes/center_prior/synthetic.toml" --output-dir "$tmp/runs"
run=$(ls -d "$tmp"/runs/center_prior_synthetic/*/ | head -1)
for f in recipe.toml command.txt env.json log.txt train_state.json checkpoints/last.pt eval/test_last/metrics.json; do
  [ -e "$run/$f" ] && passed=$((passed + 1)) || { echo "FAIL: run directory lacks $f"; failures=$((failures + 1)); }
done
# The allocator in force: tcmalloc where the build linked it (tools/CMakeLists.txt), else glibc's, tuned by main().
if ldd "$AVSL" | grep -q libasan; then  # scripts/test.sh --sanitize
  allocator_re="allocator: AddressSanitizer's allocator$"
elif ldd "$AVSL" | grep -q libtcmalloc; then
  allocator_re="allocator: tcmalloc [0-9]+\.[0-9]+"
else
  allocator_re="allocator: glibc malloc [0-9.]+ \(tuned: mmap threshold 32 MiB, trim threshold 1 GiB\)$"
fi
expect "the run log names the allocator" 0 "  $allocator_re" -- cat "$run/log.txt"
expect "eval a run directory" 0 "metrics: .*eval/test_last/metrics.json" -- "$AVSL" eval "$run" --split test
expect "eval a checkpoint file" 0 "n_snd" -- "$AVSL" eval "$run/checkpoints/last.pt" --out "$tmp/eval_ckpt"
# A checkpoint file inside a run directory is evaluated into that run's eval/, never into the current directory.
rm -rf "$run/eval/test_last"
pushd "$tmp" >/dev/null
expect "eval a run's checkpoint file" 0 "metrics: .*eval/test_last/metrics.json" -- \
  "$AVSL" eval "$run/checkpoints/last.pt" --split test
popd >/dev/null
[ -e "$run/eval/test_last/metrics.json" ] && [ ! -e "$tmp/eval" ] && passed=$((passed + 1)) ||
  { echo "FAIL: eval of a run's checkpoint file did not write under the run"; failures=$((failures + 1)); }
expect "eval missing run" 1 "checkpoint not found: /nonexistent" -- "$AVSL" eval /nonexistent
expect "eval without that split" 1 "no data.val dataset" -- "$AVSL" eval "$run" --split val
expect "resume refuses a model change" 1 "cannot resume: the model or data changed \(model.sigma: 0.25 -> 0.3\)" -- \
  "$AVSL" train --resume "$run" --set model.sigma=0.3
expect "train --verbose takes no value" 2 "option '--verbose' takes no value" -- "$AVSL" train --verbose=1
expect "eval --verbose takes no value" 2 "option '--verbose' takes no value" -- "$AVSL" eval "$run" --verbose=yes

# Recipes by name: @avsl/<path> is looked up in $AVSL_RECIPE_PATH, then in the installed recipes, and in a build
# tree (this one) in the source tree's recipes/.
expect "recipe given by name" 0 "sigma = 0.25" -- env -u AVSL_RECIPE_PATH "$AVSL" recipe dump @avsl/center_prior/synthetic.toml
printf 'base = ["@avsl/center_prior/synthetic.toml"]\n[model]\nsigma = 0.4\n' >"$tmp/by_name.toml"
expect "base given by name" 0 "sigma = 0.4" -- env -u AVSL_RECIPE_PATH "$AVSL" recipe dump "$tmp/by_name.toml"
printf 'base = ["@avsl/nope/none.toml"]\n' >"$tmp/bad_name.toml"
expect "unknown recipe name lists the search path" 1 \
  "$tmp/bad_name.toml: base '@avsl/nope/none.toml' not found in the recipe search path \(looked for nope/none.toml in .*share/avsl/recipes, $SRC/recipes\)" -- \
  env -u AVSL_RECIPE_PATH "$AVSL" recipe dump "$tmp/bad_name.toml"
mkdir -p "$tmp/recipe_path/mine"
printf 'base = ["@avsl/center_prior/synthetic.toml"]\n[model]\nsigma = 0.6\n' >"$tmp/recipe_path/mine/wide.toml"
AVSL_RECIPE_PATH="$tmp/recipe_path" expect "AVSL_RECIPE_PATH is searched first" 0 "sigma = 0.6" -- \
  "$AVSL" recipe dump @avsl/mine/wide.toml
expect "train a recipe given by name" 0 "test \(last\)" -- env -u AVSL_RECIPE_PATH "$AVSL" train \
  @avsl/center_prior/synthetic.toml --output-dir "$tmp/runs_named" --set data.test.size=20

# A component whose plugin is not loaded: the error lists the directories searched and how to add one.
expect "unknown component names the plugin directories" 1 \
  "unknown scheduler 'absent\.Thing'.*plugins were searched for in $tmp/nowhere, .*avsl/plugins -- to search another directory, pass --plugin-path DIR or set AVSL_PLUGIN_PATH" -- \
  "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml" --plugin-path "$tmp/nowhere" --set 'schedule={type="absent.Thing"}'
expect "absent required plugin names the plugin directories" 1 \
  "recipe requires plugin 'absent' but it was not found.*plugins were searched for in .*--plugin-path DIR or set AVSL_PLUGIN_PATH" -- \
  "$AVSL" recipe dump "$SRC/recipes/center_prior/synthetic.toml" --set 'plugins=["center_prior", "absent"]'

# Runs remember their plugins: a run trained with a plugin from outside the default directory evaluates and
# resumes without --plugin-path, from the path its env.json records. The plugin is tests/plugin_abi's 'good' (a
# scheduler, good.Half), which the build puts outside the default plugin directory; it is copied to a scratch
# directory so that the test can change and then remove it. A copy of an in-tree plugin (center_prior, ...) would
# not do: the default directory provides the same name, and the search path wins over the recorded path.
good_so="$(dirname "$AVSL")/../test_plugins/good/libavsl_good.so"
if [ -f "$good_so" ]; then
  mkdir -p "$tmp/extra"
  cp "$good_so" "$tmp/extra/"
  expect "train with a plugin from --plugin-path" 0 "test \(last\)" -- "$AVSL" train \
    "$SRC/recipes/center_prior/synthetic.toml" --plugin-path "$tmp/extra" --output-dir "$tmp/runs_extra" \
    --set 'schedule={type="good.Half"}' --set data.test.size=20
  xrun=$(ls -d "$tmp"/runs_extra/center_prior_synthetic/*/ | head -1)
  xrun=${xrun%/}
  expect "eval loads the plugin the run recorded" 0 \
    "^avsl eval: loaded plugin good 1\.2\.3 from $tmp/extra/libavsl_good\.so \(recorded in $xrun/env\.json\)$" -- \
    "$AVSL" eval "$xrun"
  # No warning: the SHA-1 computed now agrees with the one env.json recorded.
  ! grep -q "warning" "$tmp/err" && passed=$((passed + 1)) ||
    { echo "FAIL: eval of an unchanged recorded plugin warned"; sed 's/^/  | /' "$tmp/err"; failures=$((failures + 1)); }
  expect "eval of a run's checkpoint loads the recorded plugin" 0 "loaded plugin good 1\.2\.3" -- \
    "$AVSL" eval "$xrun/checkpoints/last.pt" --out "$tmp/xeval" --verbose
  expect "resume loads the plugin the run recorded" 1 "cannot resume: the model or data changed \(model.sigma" -- \
    "$AVSL" train --resume "$xrun" --set model.sigma=0.3
  grep -Eq "^avsl train: loaded plugin good 1\.2\.3 from $tmp/extra/libavsl_good\.so" "$tmp/err" &&
    passed=$((passed + 1)) || { echo "FAIL: resume did not load the recorded plugin"; failures=$((failures + 1)); }
  expect "the search path wins over the recorded plugin" 0 "metrics:" -- \
    "$AVSL" eval "$xrun" --plugin-path "$(dirname "$good_so")" --out "$tmp/xeval2"
  ! grep -q "loaded plugin" "$tmp/err" && passed=$((passed + 1)) ||
    { echo "FAIL: the recorded plugin was loaded although the search path provided it"; failures=$((failures + 1)); }
  printf 'x' >>"$tmp/extra/libavsl_good.so"  # trailing bytes: still a loadable library, another SHA-1
  expect "eval refuses a recorded plugin that changed" 1 \
    "warning: plugin 'good' at $tmp/extra/libavsl_good\.so changed since the run: its SHA-1 is [0-9a-f]{40} but $xrun/env\.json recorded [0-9a-f]{40}; not loaded; pass --plugin-path DIR" -- \
    "$AVSL" eval "$xrun" --out "$tmp/xeval3"
  expect "a changed plugin still loads when asked for" 0 "metrics:" -- \
    "$AVSL" eval "$xrun" --plugin-path "$tmp/extra" --out "$tmp/xeval3"
  grep -Eq "warning: plugin 'good' from the search path \($tmp/extra/libavsl_good\.so, SHA-1 [0-9a-f]{40}\) is not the build the run used" "$tmp/err" &&
    passed=$((passed + 1)) || { echo "FAIL: no warning for another build on the search path"; failures=$((failures + 1)); }
  rm "$tmp/extra/libavsl_good.so"
  expect "eval names a recorded plugin that is gone" 1 \
    "warning: plugin 'good' recorded in $xrun/env\.json is gone: $tmp/extra/libavsl_good\.so does not exist" -- \
    "$AVSL" eval "$xrun"
  grep -Eq "unknown scheduler 'good\.Half'.*--plugin-path DIR or set AVSL_PLUGIN_PATH" "$tmp/err" &&
    passed=$((passed + 1)) || { echo "FAIL: no plugin hint after a gone plugin"; failures=$((failures + 1)); }
else
  # The test plugins are built with the tests (AVSL_BUILD_TESTS), as this script is: their absence is a broken build.
  echo "FAIL: runs remember their plugins: no test plugin at $good_so (build the test_plugins targets)"
  failures=$((failures + 1))
fi

# An untrained reference method has one model: its Early Stop columns repeat the last evaluation.
ap=$(/usr/bin/python3 -c "import json; print('%.1f' % (100 * json.load(open('$run/eval/test_last/metrics.json'))['ap']))" 2>/dev/null ||
  sed -n 's/^ *"ap": \([0-9.]*\),/\1/p' "$run/eval/test_last/metrics.json" | awk '{ printf "%.1f", 100 * $1 }')
expect "report a run directory" 0 "^\| center_prior_synthetic \| 1 \| $ap \| .* \| $ap \| " -- "$AVSL" report "$run"
expect "report averages runs sharing a label" 0 "^\| prior \| 2 \| $ap ± 0\.0 \|" -- "$AVSL" report "prior=$run" "prior=$run" \
  --out "$tmp/table.md"
grep -q "^| prior | 2 |" "$tmp/table.md" && passed=$((passed + 1)) || { echo "FAIL: report --out"; failures=$((failures + 1)); }
# The untrained control and the audio-dependence rate. The centre prior ignores the audio: none of the 250 frames
# that the extended split pairs with a sounding and a silent clip moves its peak.
expect "eval --untrained" 0 "checkpoint: none \(untrained: step-0 weights of seed 0\)" -- "$AVSL" eval "$run" --untrained
expect "eval reports the audio-dependence rate" 0 "^audio-dependence: 0 of 250 frames move their map peak" -- \
  "$AVSL" eval "$run" --untrained
grep -q '"audio_dependence_pairs": 250' "$run/eval/test_untrained/metrics.json" && passed=$((passed + 1)) ||
  { echo "FAIL: eval --untrained metrics.json lacks audio_dependence_pairs"; failures=$((failures + 1)); }
expect "eval --untrained refuses --checkpoint" 2 "--untrained evaluates no checkpoint" -- \
  "$AVSL" eval "$run" --untrained --checkpoint last
# Negative audio: the centre prior's map and confidence ignore the sound, so no peak moves, and its off-screen
# negatives (scene j's frame + an absent class's tone) are the synthetic extended split's own negatives: the same AP.
expect "eval --negative-audio" 0 "^negative audio silence  : AP [0-9.]+ .* map peak moves on 0 of 250 frames" -- \
  "$AVSL" eval "$run" --negative-audio all
check "negative audio leaves the split's numbers and its offscreen AP is the extended split's" /usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["neg_silence_n"] == m["neg_noise_n"] == m["neg_offscreen_n"] == 250, m
assert abs(m["neg_offscreen_ap"] - m["ap"]) < 1e-12, (m["neg_offscreen_ap"], m["ap"])
assert m["neg_silence_peak_moved"] == 0 and m["n_sounding"] == 250 and m["n_silent"] == 250
' "$run/eval/test_last/metrics.json"
expect "report negative-audio column" 0 "AP vs silence" -- "$AVSL" report "$run" --columns ap,neg_silence_ap
expect "eval --negative-audio unknown kind" 2 "unknown kind 'music'; expected all or a comma-separated list" -- \
  "$AVSL" eval "$run" --negative-audio silence,music
expect "report shows the untrained control" 0 "AP \(Untrained\) \| max-F1 \(Untrained\)" -- "$AVSL" report "$run"
expect "report --no-untrained" 0 "^\| center_prior_synthetic \| 1 \| $ap \| [0-9.]+ \| [0-9.]+ \| $ap \| [0-9.]+ \| [0-9.]+ \| constant \| N=500 \|$" -- \
  "$AVSL" report "$run" --no-untrained
expect "report audio-dependence column" 0 "^\| center_prior_synthetic \| 1 \| 0\.0 \| 0\.0 \| 0\.0 \|" -- \
  "$AVSL" report "$run" --columns audio_dependence
# --untrained is the model 'avsl train' starts from: a trainable method evaluated after 0 epochs gives the same file.
expect "train a trainable method for 0 epochs" 0 "test \(last\)" -- "$AVSL" train "$SRC/recipes/ezvsl/synthetic.toml" \
  --output-dir "$tmp/zero" --set train.epochs=0 --set data.test.size=20 --set threads=1
zrun=$(ls -d "$tmp"/zero/*/*/ | head -1)
expect "eval --untrained of the trainable run" 0 "metrics: .*eval/test_untrained/metrics.json" -- "$AVSL" eval "$zrun" --untrained
cmp -s "$zrun/eval/test_last/metrics.json" "$zrun/eval/test_untrained/metrics.json" && passed=$((passed + 1)) ||
  { echo "FAIL: eval --untrained differs from the 0-epoch training's test"; diff "$zrun/eval/test_last/metrics.json" "$zrun/eval/test_untrained/metrics.json" | head; failures=$((failures + 1)); }

# avsl eval RECIPE --weights FILE: a state dict in someone else's layout, read through the recipe's [weights] table.
# avsl's own export (avsl names, so the default table) must give the very metrics of the run it came from.
expect "eval --export-pt" 0 "weights for torch.load: .*ez_export.pt" -- "$AVSL" eval "$zrun" --export-pt "$tmp/ez_export.pt" \
  --out "$tmp/ez_export_eval"
printf 'base = ["%s"]\n' "$SRC/recipes/ezvsl/synthetic.toml" >"$tmp/ez_released.toml"
weights_eval=(eval "$tmp/ez_released.toml" --weights "$tmp/ez_export.pt" --set data.test.size=20 --set threads=1)
expect "eval --weights loads every tensor" 0 "^weights: .*ez_export.pt: [0-9]+ tensors loaded from the top level" -- \
  "$AVSL" "${weights_eval[@]}" --out "$tmp/ez_weights_eval"
cmp -s "$zrun/eval/test_last/metrics.json" "$tmp/ez_weights_eval/metrics.json" && passed=$((passed + 1)) ||
  { echo "FAIL: eval --weights of the exported state dict differs from the run's test"; failures=$((failures + 1)); }
expect "eval --weights default output folder" 0 "metrics: .*/eval_ez_export_test/metrics.json" -- "$AVSL" "${weights_eval[@]}"
# A recipe (not a run's saved one) leaves eval.split to its default: --negative-audio finds the split all the same.
expect "eval --weights --negative-audio" 0 "^negative audio noise    : AP [0-9.]+" -- \
  "$AVSL" "${weights_eval[@]}" --negative-audio noise --out "$tmp/ez_weights_neg"
expect "eval --weights mismatch prints the load report" 1 "ez_export.pt does not match the module: .*missing.*image_encoder\.conv1\.weight.*\[weights\] table" -- \
  "$AVSL" "${weights_eval[@]}" --set 'weights.rename=["image_encoder.=imgnet."]'
expect "eval --weights rename syntax" 1 "weights.rename': entry 'imgnet' is not \"FROM=TO\"" -- \
  "$AVSL" "${weights_eval[@]}" --set 'weights.rename=["imgnet"]'
expect "eval --weights missing file" 1 "/nonexistent/w.pth" -- "$AVSL" eval "$tmp/ez_released.toml" --weights /nonexistent/w.pth
expect "eval --weights needs a recipe" 1 "recipe /nonexistent.toml not found \(with --weights, RUN is a recipe file\)" -- \
  "$AVSL" eval /nonexistent.toml --weights "$tmp/ez_export.pt"
expect "eval --weights excludes --untrained" 2 "--weights evaluates a recipe with the given file; leave out --untrained" -- \
  "$AVSL" eval "$tmp/ez_released.toml" --weights "$tmp/ez_export.pt" --untrained

# --nproc-per-node: two ranks on loopback; rank 0 alone writes the run directory and names the job in its log.
small_train=(--set train.epochs=1 --set data.train.size=16 --set data.val.size=10 --set data.test.size=10
  --set data.batch_size=4 --set data.eval_batch_size=5 --set threads=1 --set eval.visualize=0 --set train.log_every=1)
expect "train --nproc-per-node 2" 0 "data-parallel: 2 processes .* batch 4 per process = 8 global" -- \
  "$AVSL" train "$SRC/recipes/ezvsl/synthetic.toml" --nproc-per-node 2 --output-dir "$tmp/dp" "${small_train[@]}"
drun=$(ls -d "$tmp"/dp/*/*/ | head -1)
grep -q '"rank_step_s":\[' "$drun/metrics.jsonl" && [ -f "$drun/eval/test_last/metrics.json" ] && passed=$((passed + 1)) ||
  { echo "FAIL: the 2-rank run lacks per-rank step times or its test evaluation"; failures=$((failures + 1)); }
expect "train --nproc-per-node needs a count" 2 "expected an integer in \[1, 1024\], got \"0\"" -- \
  "$AVSL" train "$SRC/recipes/ezvsl/synthetic.toml" --nproc-per-node 0
RANK=0 WORLD_SIZE=1 expect "train --nproc-per-node inside a launched job" 2 "RANK is set" -- \
  "$AVSL" train "$SRC/recipes/ezvsl/synthetic.toml" --nproc-per-node 2
RANK=0 WORLD_SIZE=2 expect "train names a missing rendezvous variable" 1 "MASTER_ADDR is not set" -- \
  "$AVSL" train "$SRC/recipes/ezvsl/synthetic.toml"

expect "report needs a run directory" 2 "missing argument RUN_DIR" -- "$AVSL" report
expect "report not a run directory" 1 "not a run directory: $tmp \(no recipe.toml" -- "$AVSL" report "$tmp"
expect "report unknown column" 1 "unknown results column 'apx'; expected one of ap, ap_ref" -- "$AVSL" report "$run" --columns apx
expect "report split without evaluation" 1 "has no evaluation on the 'val' split" -- "$AVSL" report "$run" --split val

# avsl bench data: the loader as the trainer drives it, ending with the samples/s line.
expect "bench data ends with samples/s" 0 "^data: [0-9]+\.[0-9] samples/s$" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --split test --batches 2
expect "bench data says what is in force" 0 "^threads: [0-9]+ \(LibTorch intra-op\), workers: [0-9]+, batch size: [0-9]+$" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --split test --batches 1
expect "bench data names the allocator" 0 "^$allocator_re" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --split test --batches 1
expect "bench data without that split" 1 "no data.val dataset" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --split val
expect "bench data names a wrong recipe key" 1 "^avsl bench data: error: unknown recipe key 'data.test.sizee' \[--set\]" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --split test --set data.test.sizee=3
expect "bench data bad --batches" 2 "--batches: expected a positive integer, found '0'" -- \
  "$AVSL" bench data "$SRC/recipes/center_prior/synthetic.toml" --batches 0
expect "bench unknown action" 2 "unknown action 'stepp'; expected data or step" -- \
  "$AVSL" bench stepp "$SRC/recipes/center_prior/synthetic.toml"
# avsl bench step: whole training steps through the trainer, split into phases, ending with the samples/s line.
ezvsl_bench=(bench step "$SRC/recipes/ezvsl/synthetic.toml" --steps 2 --warmup 1 --set data.batch_size=16)
expect "bench step ends with samples/s" 0 "^step: [0-9]+\.[0-9] samples/s$" -- "$AVSL" "${ezvsl_bench[@]}"
expect "bench step splits the step" 0 "^forward +[0-9]+\.[0-9]+ +[0-9]+\.[0-9] %$" -- "$AVSL" "${ezvsl_bench[@]}"
expect "bench step says the precision in force" 0 "^precision: (bf16 autocast, channels_last|fp32, contiguous) \(amp = \"auto\"" \
  -- "$AVSL" "${ezvsl_bench[@]}" --set 'amp="auto"'
expect "bench step leaves no scratch run behind" 0 "^none$" -- sh -c \
  "TMPDIR='$tmp' '$AVSL' bench step '$SRC/recipes/ezvsl/synthetic.toml' --steps 1 --warmup 0 --set data.batch_size=8 \
   >/dev/null && ls '$tmp' | grep -c avsl_bench_step || echo none"
# Every shipped synthetic recipe: a timed step, or the reason it cannot train here (no parameters; OGL's ImageNet
# weights, which cannot be downloaded here), and its train split's loader (reference methods have none). Exit 0 with
# the last line, or 1 with the reason: the status is folded into the output to check both.
last_line_or_rc='out=$("$@" 2>&1); rc=$?; if [ $rc -eq 0 ]; then tail -n 1 <<<"$out"; else echo "rc=$rc $(tail -n 1 <<<"$out")"; fi'
for recipe in "$SRC"/recipes/*/synthetic*.toml "$SRC"/recipes/*/*_synthetic.toml "$SRC"/recipes/quickstart.toml; do
  [[ $recipe == */recipes/grids/* ]] && continue  # grid files (avsl grid), checked by grid_test.sh
  name="$(basename "$(dirname "$recipe")")/$(basename "$recipe")"
  expect "bench step $name" 0 \
    "^(step: [0-9]+\.[0-9] samples/s|rc=1 .*(the run made 0 steps|recipe key 'model.weights' is not set).*)$" -- \
    bash -c "$last_line_or_rc" _ "$AVSL" bench step "$recipe" --steps 1 --warmup 0 --set data.batch_size=8
  expect "bench data $name" 0 "^(data: [0-9]+\.[0-9] samples/s|rc=1 .*the recipe has no data.train dataset.*)$" -- \
    bash -c "$last_line_or_rc" _ "$AVSL" bench data "$recipe" --batches 1 --set data.batch_size=8
done
expect "bench step on a method with nothing to train" 1 "the run made 0 steps, fewer than --warmup \+ 1 = 4" -- \
  "$AVSL" bench step "$SRC/recipes/center_prior/synthetic.toml"
expect "bench step names a wrong recipe key" 1 "^avsl bench step: error: unknown recipe key 'train.lrr' \[--set\]" -- \
  "$AVSL" bench step "$SRC/recipes/ezvsl/synthetic.toml" --set train.lrr=1
expect "bench step bad --steps" 2 "--steps: expected a positive integer, found '0'" -- \
  "$AVSL" bench step "$SRC/recipes/ezvsl/synthetic.toml" --steps 0

expect "synth requires --out" 2 "--out is required" -- "$AVSL" synth
expect "synth unknown preset" 2 "preset" -- "$AVSL" synth --out "$tmp/x" --preset huge
expect "synth quick preset" 0 "wrote 2000 train, 250 val, 250 test scenes and 250 extended negatives" -- \
  "$AVSL" synth --out "$tmp/syn" --preset quick --seed 3
# The full-size recipe of docs/performance.md on Flickr-layout files (the quick preset's frames and clips are smaller
# than the real ones: the transform resizes them and the loader tiles the clips), and on a root that is not there.
full=(--set "data.train.root=\"$tmp/syn\"" --set data.batch_size=4)
expect "bench data on the full-size Flickr recipe" 0 "^data: [0-9]+\.[0-9] samples/s$" -- \
  "$AVSL" bench data "$SRC/recipes/bench/slavc_full_size.toml" "${full[@]}" --batches 2
expect "bench step on the full-size Flickr recipe" 0 "^step: [0-9]+\.[0-9] samples/s$" -- \
  "$AVSL" bench step "$SRC/recipes/bench/slavc_full_size.toml" "${full[@]}" --steps 1 --warmup 0
expect "bench data names a missing dataset root" 1 "$tmp/nowhere" -- \
  "$AVSL" bench data "$SRC/recipes/bench/slavc_full_size.toml" --set "data.train.root=\"$tmp/nowhere\""
wav=$(ls "$tmp/syn/audio" | head -1)
jpg=$(ls "$tmp/syn/frames" | head -1)
expect "inspect audio" 0 "spectrogram \[1, 257, 200\]" -- "$AVSL" inspect audio "$tmp/syn/audio/$wav" --out "$tmp/a.npy"
expect "inspect image" 0 "test transform \[3, 64, 64\]" -- "$AVSL" inspect image "$tmp/syn/frames/$jpg" --out "$tmp/i.npy" --set input_size=64
expect "inspect unknown --set key" 1 "unknown key 'input_sise'; did you mean 'input_size'" -- \
  "$AVSL" inspect image "$tmp/syn/frames/$jpg" --out "$tmp/i.npy" --set input_sise=64
expect "inspect corrupt image names file" 1 "$tmp/syn/audio/$wav" -- "$AVSL" inspect image "$tmp/syn/audio/$wav" --out "$tmp/i.npy"
# avsl infer: a user's own image + WAV through the run's test pipeline. The same pair scored by avsl eval (the
# synthetic files read as a Flickr dataset with the synthetic recipe's pipeline keys) gives a byte-identical map. Both
# in batches of one: oneDNN picks its convolution algorithm by batch size, which moves the last bits (~1e-7).
flickr_test="{type=\"datasets.Flickr\", root=\"$tmp/syn\", list=\"metadata/flickr_test.csv\", mode=\"test\", input_size=113, nperseg=256, noverlap=128, clip_seconds=0.5, sample_rate=16000}"
expect "eval --maps-dir on the synthetic files" 0 "metrics: " -- "$AVSL" eval "$zrun" --set "data.test=$flickr_test" \
  --set data.eval_batch_size=1 --maps-dir "$tmp/eval_maps" --out "$tmp/eval_files"
infer_pair=(--image "$tmp/syn/frames/test_000003.jpg" --audio "$tmp/syn/audio/test_000003.wav")
expect "infer writes map, overlay and JSON" 0 "^test_000003: confidence [0-9.]+, peak \([0-9]+, [0-9]+\) of 224x224, sounding unknown" -- \
  "$AVSL" infer --run "$zrun" "${infer_pair[@]}" --out "$tmp/infer"
key3=$(ls "$tmp/eval_maps" | grep '^test_000003' | head -1)
cmp -s "$tmp/eval_maps/$key3" "$tmp/infer/test_000003.npy" && [ -s "$tmp/infer/test_000003.png" ] &&
  grep -q '"sounding": null' "$tmp/infer/test_000003.json" && passed=$((passed + 1)) ||
  { echo "FAIL: avsl infer's map differs from avsl eval --maps-dir's ($key3), or its PNG/JSON is missing"; failures=$((failures + 1)); }
expect "infer --threshold decides sounding (yes)" 0 "sounding yes" -- "$AVSL" infer --run "$zrun" "${infer_pair[@]}" \
  --out "$tmp/infer2" --threshold -1e9
expect "infer --threshold decides sounding (no)" 0 "sounding no" -- "$AVSL" infer --run "$zrun" "${infer_pair[@]}" \
  --out "$tmp/infer2" --threshold 1e9
expect "infer two pairs with one image name keeps both" 0 "test_000003_1: confidence" -- "$AVSL" infer --run "$zrun" \
  "${infer_pair[@]}" --image "$tmp/syn/frames/test_000003.jpg" --audio "$tmp/syn/audio/neg_000003.wav" --out "$tmp/infer3"
expect "infer reads the run's validation threshold" 0 "^threshold: [-0-9.e]+ \(the run's validation max-F1 threshold at epoch 1[;)]" -- \
  "$AVSL" infer --run "$drun" "${infer_pair[@]}" --out "$tmp/infer4"
grep -q '"sounding": \(true\|false\)' "$tmp/infer4/test_000003.json" && passed=$((passed + 1)) ||
  { echo "FAIL: infer with a run threshold wrote no sounding decision"; failures=$((failures + 1)); }
mkdir -p "$tmp/keys/a" "$tmp/keys/b"
cp "$tmp/syn/frames/test_000003.jpg" "$tmp/keys/a/cat.jpg" && cp "$tmp/syn/frames/test_000003.jpg" "$tmp/keys/b/cat_1.jpg"
expect "infer names colliding stems apart" 0 "^cat_2: confidence" -- "$AVSL" infer --run "$zrun" --out "$tmp/infer6" \
  --image "$tmp/keys/a/cat.jpg" --audio "$tmp/syn/audio/test_000003.wav" \
  --image "$tmp/keys/b/cat_1.jpg" --audio "$tmp/syn/audio/test_000003.wav" \
  --image "$tmp/keys/b/cat_1.jpg" --audio "$tmp/syn/audio/test_000003.wav" \
  --image "$tmp/keys/a/cat.jpg" --audio "$tmp/syn/audio/neg_000003.wav"
[ -f "$tmp/infer6/cat.npy" ] && [ -f "$tmp/infer6/cat_1.npy" ] && [ -f "$tmp/infer6/cat_1_1.npy" ] && [ -f "$tmp/infer6/cat_2.npy" ] &&
  passed=$((passed + 1)) || { echo "FAIL: infer's names for colliding stems"; ls "$tmp/infer6"; failures=$((failures + 1)); }
expect "infer missing image names it" 1 "/nonexistent/frame.jpg: file not found" -- "$AVSL" infer --run "$zrun" \
  --image /nonexistent/frame.jpg --audio "$tmp/syn/audio/test_000003.wav" --out "$tmp/infer5"
expect "infer corrupt image names it" 1 "$tmp/syn/audio/test_000003.wav" -- "$AVSL" infer --run "$zrun" \
  --image "$tmp/syn/audio/test_000003.wav" --audio "$tmp/syn/audio/test_000003.wav" --out "$tmp/infer5"
expect "infer pairs images with audio" 2 "give --image and --audio in pairs \(found 1 images and 0 audio files\)" -- \
  "$AVSL" infer --run "$zrun" --image "$tmp/syn/frames/test_000003.jpg" --out "$tmp/infer5"
expect "infer needs a model" 2 "give either --run RUN_DIR or --recipe RECIPE --weights FILE" -- \
  "$AVSL" infer "${infer_pair[@]}" --out "$tmp/infer5"
expect "infer --threshold is a number" 2 "--threshold: expected a number, found 'high'" -- \
  "$AVSL" infer --run "$zrun" "${infer_pair[@]}" --out "$tmp/infer5" --threshold high
# avsl infer --video: an mp4 made with the same FFmpeg libraries (a synthetic scene for 2 s with its sound, then 2 s
# of digital silence, 5 fps), localized at 5 fps with the 2-rank run's validation threshold.
if [ -n "$MAKE_VIDEO" ] && "$MAKE_VIDEO" "$tmp/scene.mp4" "$tmp/syn/frames/test_000003.jpg" \
  "$tmp/syn/audio/test_000003.wav" 2 2 5 >/dev/null 2>"$tmp/mkvideo.err"; then
  expect "infer --video writes the heatmap video and the JSONL" 0 \
    "^scene: 20 frames, [0-9]+ silent \(below -60 dBFS\), sounding [0-9]+ of 20 -> .*scene.heatmap.mp4 \(libx264\)" -- \
    "$AVSL" infer --run "$drun" --video "$tmp/scene.mp4" --fps 5 --window 0.5 --out "$tmp/vid"
  # Playable: reopened, 20 frames at 0.2 s steps and the sound kept (4 s, up to AAC's last frame).
  expect "infer --video's heatmap video reopens" 0 "^frames 20 first 0\.000 last 3\.800 audio_channels 1 audio_seconds 4\.0[0-9]+$" -- \
    "$MAKE_VIDEO" --probe "$tmp/vid/scene.heatmap.mp4"
  [ "$(wc -l <"$tmp/vid/scene.jsonl")" -eq 20 ] && grep -q '"index":5,.*"time":1\.0[,}]' "$tmp/vid/scene.jsonl" &&
    passed=$((passed + 1)) || { echo "FAIL: infer --video's JSONL lacks 20 lines or frame 5 at 1.0 s"; head -3 "$tmp/vid/scene.jsonl"; failures=$((failures + 1)); }
  # The silent stretch (windows ending after 2 s) is silent and not sounding; the sounding stretch is not silent.
  silent_ok=$(awk -F'"time":' 'NF > 1 { split($2, a, /[,}]/); t = a[1] + 0
    s = ($0 ~ /"silent":true/); n = ($0 ~ /"sounding":false/)
    if ((t >= 2.3 && !(s && n)) || (t <= 1.7 && s)) bad++ } END { print bad + 0 }' "$tmp/vid/scene.jsonl")
  [ "$silent_ok" = 0 ] && passed=$((passed + 1)) ||
    { echo "FAIL: infer --video: $silent_ok frames with the wrong silent/sounding"; cat "$tmp/vid/scene.jsonl"; failures=$((failures + 1)); }
  expect "infer --video every frame by default" 0 "localizing 20 frames at 5\.000 fps" -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/scene.mp4" --out "$tmp/vid2"
  expect "infer --video without a threshold" 0 "sounding unknown for [0-9]+ -> " -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/scene.mp4" --fps 1 --out "$tmp/vid3"
  head -c $(($(stat -c %s "$tmp/scene.mp4") / 2)) "$tmp/scene.mp4" >"$tmp/cut.mp4"
  expect "infer --video truncated file" 1 "$tmp/cut.mp4: not a media file FFmpeg can demux" -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/cut.mp4" --out "$tmp/vid4"
  expect "infer --video on a WAV" 1 "test_000003.wav: no video stream" -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/syn/audio/test_000003.wav" --out "$tmp/vid4"
  expect "infer --video missing file" 1 "/nonexistent/clip.mp4: file not found" -- \
    "$AVSL" infer --run "$zrun" --video /nonexistent/clip.mp4 --out "$tmp/vid4"
  [ ! -e "$tmp/vid4/cut.heatmap.mp4" ] && [ ! -e "$tmp/vid4/cut.heatmap.mp4.partial" ] && passed=$((passed + 1)) ||
    { echo "FAIL: a failed infer --video left a video behind"; ls "$tmp/vid4"; failures=$((failures + 1)); }
  expect "infer --video excludes pairs" 2 "give --video or --image/--audio pairs, not both" -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/scene.mp4" "${infer_pair[@]}" --out "$tmp/vid4"
  expect "infer --fps needs --video" 2 "--fps and --window go with --video" -- \
    "$AVSL" infer --run "$zrun" "${infer_pair[@]}" --fps 2 --out "$tmp/vid4"
  expect "infer --fps range" 2 "--fps: expected a number in \(0, 1000\], found '0'" -- \
    "$AVSL" infer --run "$zrun" --video "$tmp/scene.mp4" --fps 0 --out "$tmp/vid4"
else
  echo "SKIP: avsl infer --video checks: no test video (${MAKE_VIDEO:-no make_test_video given}: $(head -1 "$tmp/mkvideo.err" 2>/dev/null); a build without FFmpeg?)"
fi
# 0.5 s of digital silence, 16 kHz mono 16-bit: a canonical WAV header and zeros.
{ printf 'RIFF\xa4\x3e\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00'
  printf 'data\x80\x3e\x00\x00'; head -c 16000 /dev/zero; } >"$tmp/silence.wav"
expect "infer calls a silent WAV silent" 0 "sounding no \(silent\)" -- "$AVSL" infer --run "$zrun" \
  --image "$tmp/syn/frames/test_000003.jpg" --audio "$tmp/silence.wav" --out "$tmp/infer7" --threshold -1e9
# avsl data check: every item decoded; a missing frame, a truncated JPEG and a truncated WAV are each named.
mkdir -p "$tmp/dc/frames" "$tmp/dc/audio"
cp -r "$tmp/syn/metadata" "$tmp/syn/Annotations" "$tmp/dc/"
cp "$tmp/syn"/frames/test_* "$tmp/dc/frames/" && cp "$tmp/syn"/audio/test_* "$tmp/dc/audio/"
printf 'plugins = ["datasets"]\n[data.test]\ntype = "datasets.Flickr"\nroot = "%s"\nlist = "metadata/flickr_test.csv"\nmode = "test"\nclip_seconds = 0.5\ninput_size = 64\n' \
  "$tmp/dc" >"$tmp/dc.toml"
expect "data check of a complete set" 0 "^data check: all 250 items of 1 split\(s\) are usable$" -- "$AVSL" data check "$tmp/dc.toml"
rm "$tmp/dc/frames/test_000004.jpg"
head -c 1000 "$tmp/syn/frames/test_000007.jpg" >"$tmp/dc/frames/test_000007.jpg"
head -c 600 "$tmp/syn/audio/test_000009.wav" >"$tmp/dc/audio/test_000009.wav"
expect "data check counts" 1 "^test \(datasets.Flickr\): 250 listed, 247 usable, 1 missing, 2 corrupt or unreadable$" -- \
  "$AVSL" data check "$tmp/dc.toml" --out "$tmp/dc_out" --threads 2
expect "data check names the missing frame" 1 "missing: image $tmp/dc/frames/test_000004.jpg: cannot open" -- \
  "$AVSL" data check "$tmp/dc.toml"
expect "data check names the truncated JPEG" 1 "corrupt: image $tmp/dc/frames/test_000007.jpg: truncated JPEG" -- \
  "$AVSL" data check "$tmp/dc.toml"
expect "data check names the truncated WAV" 1 "corrupt: audio $tmp/dc/audio/test_000009.wav: truncated" -- \
  "$AVSL" data check "$tmp/dc.toml"
grep -q "^datasets.Flickr test_000004: " "$tmp/dc_out/test_missing.txt" && [ "$(wc -l <"$tmp/dc_out/test_corrupt.txt")" -eq 2 ] &&
  passed=$((passed + 1)) || { echo "FAIL: data check --out lists"; failures=$((failures + 1)); }
expect "data check of an unreadable list" 1 "^test: cannot be read: .*nope.csv" -- \
  "$AVSL" data check "$tmp/dc.toml" --set 'data.test.list="nope.csv"'
expect "data check of an absent split" 1 "^val: the recipe has no data.val$" -- "$AVSL" data check "$tmp/dc.toml" --split val
expect "data check --split" 2 "--split: expected train, val or test, found 'dev'" -- "$AVSL" data check "$tmp/dc.toml" --split dev
expect "data unknown action" 2 "unknown action 'fix'" -- "$AVSL" data fix "$tmp/dc.toml"
expect "score needs ground truth" 2 "exactly one of --flickr-annotations and --vggss-json" -- \
  "$AVSL" score --maps "$tmp" --index "$tmp/none.csv"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 "$(dirname "$0")/make_score_fixture.py" "$tmp/syn" "$tmp/score"
  # Absolute mode keeps exactly the box, so a perfect tool scores 1 everywhere.
  expect "score perfect maps" 0 "metrics: $tmp/score/abs.json" -- "$AVSL" score --maps "$tmp/score/maps" \
    --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json" --out "$tmp/score/abs.json" \
    --per-sample "$tmp/score/per_sample.csv" --pred-mode absolute
  expect "score metrics of a perfect tool are 1" 0 "ok" -- /usr/bin/python3 -c "
import json; m = json.load(open('$tmp/score/abs.json'))
assert (m['n_sounding'], m['n_silent']) == (250, 250), m
for k in ('loc_acc', 'auc', 'mean_ciou', 'ap', 'max_f1', 'max_f1_ref', 'pointing'): assert m[k] == 1.0, (k, m[k])
# SLAVC's calc_ap has no recall-0 anchor: with two confidence levels every threshold it visits has recall 1,
# so the area under its curve is 0 even for a perfect detector (docs/evaluation.md).
assert m['ap_ref'] == 0.0, m['ap_ref']
print('ok')"
  # The reference top-50 % rule keeps at least half the image: a 0/1 map whose box covers less than half of it
  # gets threshold 0, so every pixel is positive and cIoU = area / 224^2 < 0.5. LocAcc = share of boxes >= half.
  expect "score relative mode" 0 "metrics" -- "$AVSL" score --maps "$tmp/score/maps" \
    --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json" --out "$tmp/score/rel.json"
  expect "top-50 % rule limits LocAcc as documented" 0 "ok" -- /usr/bin/python3 -c "
import csv, json
import numpy as np
m = json.load(open('$tmp/score/rel.json'))
boxes = {e['file']: e['bbox'] for e in json.load(open('$tmp/syn/metadata/vggss.json'))}
areas = []
for r in csv.reader(open('$tmp/syn/metadata/vggss_test.csv', newline='')):
    g = np.zeros((224, 224))
    for x1, y1, x2, y2 in boxes[r[0]]:
        c = lambda v: int(min(max(v, 0.0), 1.0) * 224)
        g[c(y1):c(y2), c(x1):c(x2)] = 1
    areas.append(g.sum())
expected = float(np.mean(np.array(areas) >= 25088))
assert abs(m['loc_acc'] - expected) < 1e-12, (m['loc_acc'], expected)
assert m['pointing'] == 1.0, m  # AP is low: confident but mislocalized positives are false positives
print('ok')"
  # Scoring runs on every hardware thread by default; one thread writes the same files byte for byte.
  expect "score on one thread" 0 "metrics" -- "$AVSL" score --maps "$tmp/score/maps" --threads 1 \
    --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json" --out "$tmp/score/rel1.json"
  expect "score files do not depend on --threads" 0 "^same$" -- sh -c "cmp '$tmp/score/rel.json' '$tmp/score/rel1.json' && echo same"
  expect "score --threads 0 is refused" 2 "--threads: expected a positive integer, found '0'" -- "$AVSL" score \
    --maps "$tmp/score/maps" --threads 0 --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json"
  # Pictures: overlays for the first 4 sounding rows and 4/4 = 1 silent row, each 224 x (224 + 2*14 + 4).
  expect "score writes overlays" 0 "overlays: 5 PNG in $tmp/vis" -- "$AVSL" score --maps "$tmp/score/maps" \
    --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json" --frames "$tmp/syn/frames" \
    --vis-dir "$tmp/vis" --vis-count 4
  expect "overlay PNGs have the documented size" 0 "ok" -- /usr/bin/python3 -c "
import os, struct
names = sorted(os.listdir('$tmp/vis'))
assert names == ['s00000.png', 's00001.png', 's00002.png', 's00003.png', 's00250.png'], names
for n in names:
    b = open(os.path.join('$tmp/vis', n), 'rb').read(24)
    assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and struct.unpack('>II', b[16:24]) == (224, 256), (n, b)
print('ok')"
  # A second run: a 7x7 centre prior for every key (read with --upsample bilinear).
  /usr/bin/python3 -c "
import os, numpy as np
os.makedirs('$tmp/center', exist_ok=True)
yy, xx = np.mgrid[0:7, 0:7]
m = np.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 4.0).astype(np.float32)
for f in os.listdir('$tmp/score/maps'): np.save(os.path.join('$tmp/center', f), m)"
  expect "report grid" 0 "grid: $tmp/grid.png \\(296x[0-9]+, 2 runs\\)" -- "$AVSL" report grid \
    --run "exact=$tmp/score/maps" --run "center=$tmp/center" --index "$tmp/score/index.csv" \
    --vggss-json "$tmp/syn/metadata/vggss.json" --frames "$tmp/syn/frames" --per-bucket 2 --tile-size 96 \
    --upsample bilinear --out "$tmp/grid.png"
  # Layout: columns frame + 2 runs of 96 px tiles -> 3*96 + 4*2 = 296 wide; tiles 96 + 32 = 128 high; each
  # non-empty group (4 size buckets + silent, up to 2 rows) adds an 18 px bar and rows of 2 + 128 px.
  expect "grid PNG has the layout size" 0 "ok" -- /usr/bin/python3 -c "
import csv, json, struct
import numpy as np
b = open('$tmp/grid.png', 'rb').read(24)
w, h = struct.unpack('>II', b[16:24])
boxes = {e['file']: e['bbox'] for e in json.load(open('$tmp/syn/metadata/vggss.json'))}
counts = [0, 0, 0, 0]
for r in csv.reader(open('$tmp/syn/metadata/vggss_test.csv', newline='')):
    c = lambda v: int(min(max(v, 0.0), 1.0) * 224)
    g = np.zeros((224, 224))
    for x1, y1, x2, y2 in boxes[r[0]]: g[c(y1):c(y2), c(x1):c(x2)] = 1
    a = g.sum()
    counts[0 if a < 32**2 else 1 if a < 96**2 else 2 if a < 144**2 else 3] += 1
rows = [min(2, n) for n in counts] + [2]  # 250 silent rows
expected_h = 20 + sum(18 + n * 130 for n in rows if n > 0) + 2
assert (w, h) == (296, expected_h), (w, h, expected_h, counts)
print('ok')"
  expect "report grid needs runs" 2 "grid needs at least one --run" -- "$AVSL" report grid --index x.csv --out x.png
  expect "report grid missing map names run and key" 1 "run 'center': sample 's[0-9]+'.*nowhere" -- "$AVSL" report grid \
    --run "exact=$tmp/score/maps" --run "center=$tmp/nowhere" --index "$tmp/score/index.csv" \
    --vggss-json "$tmp/syn/metadata/vggss.json" --out "$tmp/grid2.png"
  rm "$tmp/score/maps/s00003.npy"
  expect "score missing map names key and file" 1 "s00003" -- "$AVSL" score --maps "$tmp/score/maps" \
    --index "$tmp/score/index.csv" --vggss-json "$tmp/syn/metadata/vggss.json"
else
  echo "SKIP: avsl score end-to-end (needs /usr/bin/python3 with numpy)"
fi

# Every shipped recipe resolves and validates against the built plugins (bases named _* are fragments; recipes/grids/
# holds grid files, whose cells grid_test.sh validates with avsl grid --dry-run).
while IFS= read -r recipe; do
  expect "recipe validates: ${recipe#$SRC/}" 0 "resolved from" -- "$AVSL" recipe dump "$recipe"
done < <(find "$SRC/recipes" -name '*.toml' ! -path '*/_base_/*' ! -path '*/grids/*' ! -name '_*' | sort)

echo "cli: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
