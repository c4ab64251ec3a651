#!/usr/bin/env bash
# End-to-end checks of `avsl grid` and `avsl report GRID`: the smoke twin (recipes/grids/smoke_synthetic.toml) run
# whole; a grid stopped mid-cell by SIGTERM and one killed by SIGKILL, then resumed; a second grid process leaving a
# running cell alone; --status; a failing cell; grid file errors.
# Usage: grid_test.sh <avsl binary> <source dir>
set -u
AVSL=$1
SRC=$2
GRID=$SRC/recipes/grids/smoke_synthetic.toml
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

# shellcheck source=expect.sh
. "$(dirname "$0")/expect.sh"
wait_for() {  # wait_for <file> <seconds>
  for _ in $(seq 1 $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}

expect "grid --help" 0 "usage: avsl grid GRID.toml" -- "$AVSL" grid --help
expect "grid unknown flag" 2 "unknown option '--no-such-flag'" -- "$AVSL" grid --no-such-flag
expect "grid file missing" 1 "grid file not found or unreadable: $tmp/none.toml" -- "$AVSL" grid "$tmp/none.toml"
printf 'seeds = [0]\nsed = 1\n[[cell]]\nlabel = "a"\nrecipe = "x.toml"\n' >"$tmp/typo.toml"
expect "grid file: unknown key named with the file" 1 "typo.toml: top level: unknown key 'sed'" -- \
  "$AVSL" grid "$tmp/typo.toml" --status
printf '[[cell]]\nlabel = "EZ-VSL"\nrecipe = "x.toml"\n[[cell]]\nlabel = "ez vsl"\nrecipe = "y.toml"\n' >"$tmp/slug.toml"
expect "grid file: labels sharing a directory" 1 "labels 'EZ-VSL' and 'ez vsl' map to the same directory name 'ez_vsl'" -- \
  "$AVSL" grid "$tmp/slug.toml" --status
printf '[[cell]]\nrecipe = "x.toml"\n' >"$tmp/nolabel.toml"
expect "grid file: cell without label" 1 "cell\[0\]: 'label' is required" -- "$AVSL" grid "$tmp/nolabel.toml"
printf '[[cell]]\nlabel = "a"\nrecipe = "x.toml"\n[[eval]]\nname = "test"\n' >"$tmp/evalname.toml"
expect "grid file: an evaluation may not be called test" 1 "name 'test': expected \[a-z0-9_\]\+ other than test and val" -- \
  "$AVSL" grid "$tmp/evalname.toml"
expect "grid --only an unknown label" 2 "no cell is labelled 'nope'" -- "$AVSL" grid "$GRID" --only nope --status

expect "dry run: shared settings skip a recipe without their table" 0 \
  "center_prior seed 0: avsl train .* \[not for this recipe: data.train.sounding_pool=\"heard\"\]" -- "$AVSL" grid "$GRID" --dry-run
expect "a --set no cell takes is a typo" 1 "--set data.trian.root=1 applies to no cell" -- \
  "$AVSL" grid "$GRID" --dry-run --set data.trian.root=1

# The shipped grids: every cell's recipe is valid with the overrides and seed the grid gives it.
for g in table1_synthetic table2_synthetic; do
  expect "$g: every cell valid" 0 "SLAVC seed 1: avsl train" -- "$AVSL" grid "$SRC/recipes/grids/$g.toml" --dry-run
done
expect "more_methods_synthetic: every cell valid" 0 "EZ-VSL\+semi seed 1: avsl train" -- \
  "$AVSL" grid "$SRC/recipes/grids/more_methods_synthetic.toml" --dry-run
expect "later_methods_synthetic: every cell valid" 0 "Cross-modal alignment seed 1: avsl train" -- \
  "$AVSL" grid "$SRC/recipes/grids/later_methods_synthetic.toml" --dry-run
expect "table1_flickr: every cell valid with the data roots" 0 "SLAVC \+ Eq. 9 seed 0: avsl train" -- \
  "$AVSL" grid "$SRC/recipes/grids/table1_flickr.toml" --dry-run --set data.train.root='"/data/f"' \
  --set data.val.root='"/data/f"' --set data.test.root='"/data/f"'
expect "table2_vggss: every cell valid with the data roots" 0 "CoarsetoFine seed 0: avsl train" -- \
  "$AVSL" grid "$SRC/recipes/grids/table2_vggss.toml" --dry-run --set data.train.root='"/data/v"' \
  --set data.test.root='"/data/v"'
expect "a misspelt shared key stops a real grid" 1 "--set data.tset.root=\"/x\" applies to no cell" -- \
  "$AVSL" grid "$SRC/recipes/grids/table2_vggss.toml" --dry-run --set data.tset.root='"/x"'

out=$tmp/smoke
expect "status of a grid not started" 0 "pending +EZ-VSL seed 0" -- "$AVSL" grid "$GRID" --output-dir "$out" --status
printf '[[cell]\n' >"$tmp/broken.toml"
expect "report of a grid file that is not TOML names it" 1 "broken.toml:1:.*not valid TOML" -- "$AVSL" report "$tmp/broken.toml"
expect "report of a grid not started" 1 "no cell of .* is done yet" -- "$AVSL" report "$GRID" --grid-dir "$out"

# SIGTERM mid-cell: the grid forwards it, training saves a resumable checkpoint, the grid exits 143. A longer run
# (--set, kept for the resume) so that the signal lands while it trains.
"$AVSL" grid "$GRID" --output-dir "$out" --only EZ-VSL --set train.epochs=12 >"$tmp/term.out" 2>&1 &
grid_pid=$!
cell=$out/ez_vsl/seed0
check "a checkpoint appears" wait_for "$cell/checkpoints/last.pt" 120
expect "status shows the running cell" 0 "running +EZ-VSL seed 0 .*\(pid $grid_pid\)" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --status
expect "a second grid leaves the running cell alone" 0 "EZ-VSL seed 0: skipped: another process is working on this cell \(its lock .* was last taken by pid $grid_pid\)" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --only EZ-VSL --set train.epochs=12
kill -TERM "$grid_pid"
wait "$grid_pid"
rc=$?
check "SIGTERM stops the grid with 143 (got $rc)" test "$rc" -eq 143
check "the stop is reported" grep -q "avsl grid: stopped by Terminated during EZ-VSL seed 0" "$tmp/term.out"
expect "status: resumable after the stop" 0 "resumable +EZ-VSL seed 0 .*\(stopped after epoch [0-9]+ of 12\)" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --status
expect "the rerun resumes and finishes the cell" 0 "done +EZ-VSL seed 0" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --only EZ-VSL --set train.epochs=12
check "the resumed cell was resumed, not restarted" grep -q -- "train --resume $cell" "$cell/command.txt"
check "the resumed cell ran 12 epochs" grep -q '"epoch": 12' "$cell/train_state.json"
check "the cell has its untrained and unheard evaluations" test -f "$cell/eval/test_untrained/metrics.json" -a \
  -f "$cell/eval/unheard_last/metrics.json" -a -f "$cell/eval/unheard_untrained/metrics.json"

# SIGKILL of the grid: its training gets SIGTERM (parent-death signal), saves, and the lock dies with it.
semi=$out/ez_vsl_semi/seed0
"$AVSL" grid "$GRID" --output-dir "$out" --only EZ-VSL+semi --set train.epochs=12 >"$tmp/kill.out" 2>&1 &
grid_pid=$!
check "a checkpoint appears (semi)" wait_for "$semi/checkpoints/last.pt" 120
kill -KILL "$grid_pid"
wait "$grid_pid" 2>/dev/null
for _ in $(seq 1 300); do
  "$AVSL" grid "$GRID" --output-dir "$out" --status | grep -q "^running" || break
  sleep 0.1
done
expect "status after SIGKILL: resumable, not running" 0 "resumable +EZ-VSL\+semi seed 0" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --status
check "the orphaned training saved on SIGTERM" grep -q "stopped by SIGTERM" "$semi/log.txt"

# The rest of the grid: center_prior runs, the finished EZ-VSL cell is skipped, EZ-VSL+semi resumes.
expect "the whole grid finishes" 0 "3 done, 0 running, 0 failed, 0 resumable, 0 pending" -- \
  "$AVSL" grid "$GRID" --output-dir "$out" --set train.epochs=12
check "a finished cell is not run again" test "$(grep -c . "$cell/command.txt")" -eq 2
expect "report GRID renders both splits and both groups" 0 "### Semi-supervised, split unheard" -- \
  "$AVSL" report "$GRID" --grid-dir "$out" --out "$tmp/report.md"
check "report --out writes the tables" grep -q "| EZ-VSL+semi | 1 |" "$tmp/report.md"
expect "report GRID --split unheard" 0 "Values in % on the 'unheard' split" -- \
  "$AVSL" report "$GRID" --grid-dir "$out" --split unheard
# An evaluation added to the grid file after its cells finished: the next run adds it to every done cell and trains
# nothing; the report reads it as a split of its own.
sed "s|recipe = \"\.\./|recipe = \"$SRC/recipes/|" "$GRID" >"$tmp/negaudio.toml"
printf '[[eval]]\nname = "negaudio"\nset = [%s]\n' "'data.test.negative_audio=[\"silence\", \"offscreen\"]'" \
  >>"$tmp/negaudio.toml"
expect "an [[eval]] added later reaches the done cells" 0 "EZ-VSL\+semi seed 0: added the evaluations the grid file lists" -- \
  "$AVSL" grid "$tmp/negaudio.toml" --output-dir "$out"
check "the added evaluation has the negative-audio keys" grep -q '"neg_offscreen_ap"' "$cell/eval/negaudio_last/metrics.json"
check "adding an evaluation trains nothing" test "$(grep -c . "$cell/command.txt")" -eq 2
expect "a second run finds nothing to add" 0 "3 done, 0 running" -- "$AVSL" grid "$tmp/negaudio.toml" --output-dir "$out"
check "nothing was added the second time" test "$(grep -c 'added the evaluations' "$tmp/out" "$tmp/err" | awk -F: '{s+=$2} END {print s}')" -eq 0
expect "report GRID --split negaudio --columns neg_silence_ap" 0 "\| EZ-VSL \| 1 \| [0-9.]+ \| [0-9.]+ \|" -- \
  "$AVSL" report "$tmp/negaudio.toml" --grid-dir "$out" --split negaudio --columns neg_silence_ap,neg_offscreen_ap \
  --no-untrained
# Published numbers beside the measured ones (a fixture: the numbers are made up for the test).
{ cat "$GRID"; printf '[[cell.published]]\nsource = "test fixture"\nearly_stop = { ap = 10.0 }\n'; } >"$tmp/published.toml"
expect "report GRID: published / measured (delta)" 0 \
  "\| EZ-VSL\+semi \| test fixture \| 10\.0 / [0-9]+\.[0-9] \([+-][0-9]+\.[0-9]\) \|" -- \
  "$AVSL" report "$tmp/published.toml" --grid-dir "$out"
# The HTML report: self-contained, and every image decodes in a browser (Debian's chromium, headless).
expect "report GRID --html" 0 "report: $tmp/report.html \([0-9]+ KiB, self-contained\)" -- \
  "$AVSL" report "$GRID" --grid-dir "$out" --html "$tmp/report.html"
check "the HTML report has the curves and the qualitative rows" grep -q "Qualitative results by object size" "$tmp/report.html"
check "the HTML report loads nothing from outside" test "$(grep -Ec 'src="(http|file|/)' "$tmp/report.html")" -eq 0
if command -v chromium >/dev/null; then
  chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 --dump-dom "file://$tmp/report.html" \
    2>/dev/null >"$tmp/dom.html"
  loaded=$(grep -o 'data-images-loaded="[0-9]*/[0-9]*"' "$tmp/dom.html" | grep -o '[0-9]*/[0-9]*')
  check "every image of the HTML report loads in chromium (loaded/total: '$loaded')" \
    test -n "$loaded" -a "${loaded%/*}" = "${loaded#*/}" -a "${loaded#*/}" -gt 10
else
  echo "SKIP: chromium is not installed, the HTML report is not opened in a browser (AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh installs it)"
fi

# A failing cell: the others still run, the grid exits 1 and the status names the reason.
cat >"$tmp/failing.toml" <<EOF
output_dir = "$tmp/failing"
set = ["threads=1", "data.test.size=16", "data.eval_batch_size=16"]
[[cell]]
label = "broken"
recipe = "$SRC/recipes/center_prior/synthetic.toml"
set = ["model.no_such_key=1"]
[[cell]]
label = "prior"
recipe = "$SRC/recipes/center_prior/synthetic.toml"
EOF
expect "a failing cell fails the grid" 1 "1 done, 0 running, 1 failed" -- "$AVSL" grid "$tmp/failing.toml"
expect "status names the failure" 0 "failed +broken seed 0 .*no_such_key" -- "$AVSL" grid "$tmp/failing.toml" --status

# A real-format grid: `avsl synth` writes the Flickr-SoundNet and VGG-SS layouts (frames/, audio/, Annotations/*.xml,
# metadata/vggss.json); a few ids of each run one cell per layout end to end with the shipped real-data recipes.
real=$tmp/real
"$AVSL" synth --out "$real" --preset quick >/dev/null
head -n 24 "$real/metadata/flickr_train.txt" >"$real/metadata/tiny_train.txt"
head -n 12 "$real/metadata/flickr_test.csv" >"$real/metadata/tiny_test.csv"
head -n 24 "$real/metadata/vggss_heard.txt" >"$real/metadata/tiny_heard.txt"
head -n 12 "$real/metadata/vggss_heard_test.csv" >"$real/metadata/tiny_heard_test.csv"
head -n 12 "$real/metadata/vggss_unheard_test.csv" >"$real/metadata/tiny_unheard_test.csv"
small=""
for split in train val test; do
  small+="\"data.$split.root=\\\"$real\\\"\", \"data.$split.input_size=64\", \"data.$split.clip_seconds=0.5\", "
done
for enc in image_encoder audio_encoder; do small+="\"model.$enc.width=8\", \"model.$enc.blocks=[1, 1, 1, 1]\", "; done
cat >"$tmp/real.toml" <<EOF
output_dir = "$tmp/realgrid"
set = [$small "threads=1", "train.epochs=1", "data.batch_size=8", "data.eval_batch_size=6", "data.workers=0",
       "model.dim=16"]
[[cell]]
label = "EZ-VSL (Flickr layout)"
recipe = "$SRC/recipes/ezvsl/flickr_10k.toml"
set = ["data.train.list=\"metadata/tiny_train.txt\"", "data.val.list=\"metadata/tiny_test.csv\"",
       "data.test.list=\"metadata/tiny_test.csv\""]
[[cell]]
label = "EZ-VSL (VGG-SS layout, heard)"
recipe = "$SRC/recipes/ezvsl/vggss_heard110.toml"
set = ["data.train.list=\"metadata/tiny_heard.txt\"", "data.test.list=\"metadata/tiny_heard_test.csv\""]
eval = [{ name = "unheard", set = ["data.test.list=\"metadata/tiny_unheard_test.csv\""] }]
EOF
expect "a real-format grid runs end to end" 0 "2 done, 0 running, 0 failed" -- "$AVSL" grid "$tmp/real.toml"
check "the Flickr-layout cell tested its 12 ids" \
  grep -q '"n_sounding": 12' "$tmp/realgrid/ez_vsl_flickr_layout/seed0/eval/test_last/metrics.json"
check "the VGG-SS-layout cell has its unheard test" \
  test -f "$tmp/realgrid/ez_vsl_vgg_ss_layout_heard/seed0/eval/unheard_last/metrics.json"
expect "report of the real-format grid" 0 "\| EZ-VSL \(VGG-SS layout, heard\) \| 1 \|" -- \
  "$AVSL" report "$tmp/real.toml" --split unheard
# Every evaluation names its test set: its size, and the published list it matches or, named like one, does not.
check "metrics.json records the effective N" \
  grep -q '"description": "N=12"' "$tmp/realgrid/ez_vsl_flickr_layout/seed0/eval/test_last/metrics.json"
expect "a set named like a published list but not it is flagged" 0 "test set: N=250, not flickr_test_250 \(250\) or flickr_test_249 \(249\)" -- \
  "$AVSL" eval "$tmp/realgrid/ez_vsl_flickr_layout/seed0" --set 'data.test.list="metadata/flickr_test.csv"' \
  --out "$tmp/flagged"
check "... in metrics.json too" grep -q '"flickr_test_249"' "$tmp/flagged/metrics.json"
expect "the report's Test set column" 0 "\| N=12 \|" -- "$AVSL" report "$tmp/real.toml"
# The data checker on the same recipe: one frame missing and one WAV truncated are both named, exit 1.
rm "$real/frames/test_000003.jpg"
head -c 300 "$real/audio/test_000005.wav" >"$real/audio/cut.wav" && mv "$real/audio/cut.wav" "$real/audio/test_000005.wav"
check_args=()
for split in train val test; do check_args+=(--set "data.$split.root=\"$real\""); done
check_args+=(--set 'data.train.list="metadata/tiny_train.txt"' --set 'data.val.list="metadata/tiny_test.csv"'
  --set 'data.test.list="metadata/tiny_test.csv"')
expect "data check names the missing frame" 1 "missing: image $real/frames/test_000003.jpg" -- \
  "$AVSL" data check "$SRC/recipes/ezvsl/flickr_10k.toml" "${check_args[@]}"
expect "data check names the truncated WAV" 1 "corrupt: audio $real/audio/test_000005.wav" -- \
  "$AVSL" data check "$SRC/recipes/ezvsl/flickr_10k.toml" "${check_args[@]}"

echo "grid_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
