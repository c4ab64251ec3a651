#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ (docs/robustness.md): build them with clang + ASan + UBSan, run one, smoke all.
#   scripts/fuzz.sh build                       configure fuzz/ into build-fuzz/ and build every target
#   scripts/fuzz.sh run TARGET [libFuzzer flags] a campaign: grows build-fuzz/corpus/TARGET from tests/fuzz/corpus/TARGET;
#                                               e.g. -runs=1000000, or -max_total_time=1800
#   scripts/fuzz.sh replay                      every committed input (seeds, fixed findings) of every target, once,
#                                               under the sanitizers (deterministic: what CI runs)
#   scripts/fuzz.sh smoke [SECONDS] [TARGET...] every target (or those named) for SECONDS (default 60) from its
#                                               committed inputs, seed 1 (what CI runs); exit 1 on the first finding
#   scripts/fuzz.sh campaign [RUNS] [SECONDS] [TARGET...]
#                                               each target to RUNS executions (default 1000000) or SECONDS
#                                               (default 1800), whichever comes first; logs in build-fuzz/logs/
#   scripts/fuzz.sh report                      the table of docs/robustness.md from those logs
#   scripts/fuzz.sh list                        the targets
# A finding leaves its input in build-fuzz/findings/ (libFuzzer prints the path): replay it with
# `build-fuzz/TARGET_fuzz FILE`, fix the parser, and add the file to tests/fuzz/regressions/TARGET/ so the normal suite
# (tests/fuzz, fuzz_regression_test) replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${AVSL_FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=(checkpoint flickr_xml image is3_json lists npy recipe soft_labels unpickle vggss_json wav zip)

# Per-target input size limits: whole checkpoints and images need room; text parsers do not.
max_len() {
  case $1 in
    checkpoint | zip | image | wav) echo 65536 ;;
    *) echo 8192 ;;
  esac
}

build() {
  local cxx
  cxx=$(command -v clang++ || command -v clang++-14 || true)
  [ -n "$cxx" ] || { echo "fuzz: clang++ not found (Debian: clang, libclang-rt-14-dev; scripts/setup.sh --fuzz)" >&2; exit 1; }
  if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S fuzz -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  fi
  cmake --build "$BUILD" -- -j"${AVSL_JOBS:-2}" | grep -v '^\[' || true
  for t in "${TARGETS[@]}"; do [ -x "$BUILD/${t}_fuzz" ] || { echo "fuzz: $BUILD/${t}_fuzz was not built" >&2; exit 1; }; done
}

# run TARGET [flags]: libFuzzer on the growing corpus ($CORPUS, default build-fuzz/corpus), the committed seeds and
# the regression inputs.
run() {
  local t=$1
  shift
  [ -x "$BUILD/${t}_fuzz" ] || { echo "fuzz: no target '$t' (scripts/fuzz.sh list; scripts/fuzz.sh build)" >&2; exit 2; }
  local corpus=${CORPUS:-$BUILD/corpus}
  mkdir -p "$corpus/$t" "$BUILD/findings" "tests/fuzz/regressions/$t"
  local dict=()
  [ -f "fuzz/dicts/$t.dict" ] && dict=(-dict="fuzz/dicts/$t.dict")
  # Leaks count as findings; 2 GB and 10 s per input bound what a hostile header may make a parser do.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/${t}_fuzz" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$BUILD/findings/$t-" -print_final_stats=1 "${dict[@]}" "$@" \
    "$corpus/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"
}

# One Markdown row per campaign log: executions, seconds, executions per second, edges covered, corpus, result.
report() {
  echo "| target | executions | seconds | exec/s | edges (cov) | corpus inputs | result |"
  echo "|---|---|---|---|---|---|---|"
  for t in "${TARGETS[@]}"; do
    local log="$BUILD/logs/campaign-$t.log"
    [ -f "$log" ] || continue
    local execs secs last cov corp rc
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    rc=$(sed -n 's/^rc=//p' "$log" | tail -1)
    local rate="-"
    [ -n "$secs" ] && [ "$secs" -gt 0 ] && rate=$((execs / secs))
    echo "| $t | ${execs:-?} | ${secs:-?} | $rate | ${cov:-?} | ${corp:-?} | $([ "${rc:-1}" = 0 ] && echo clean || echo "exit $rc") |"
  done
}

case ${1:-} in
  build) build ;;
  report) report ;;
  campaign)
    runs=${2:-1000000}
    seconds=${3:-1800}
    shift $(($# < 3 ? $# : 3))
    selected=("$@")
    [ ${#selected[@]} -gt 0 ] || selected=("${TARGETS[@]}")
    build
    mkdir -p "$BUILD/logs"
    for t in "${selected[@]}"; do
      echo "fuzz: $t: up to $runs executions or $seconds s"
      run "$t" -runs="$runs" -max_total_time="$seconds" >"$BUILD/logs/campaign-$t.log" 2>&1 && rc=0 || rc=$?
      echo "rc=$rc" >>"$BUILD/logs/campaign-$t.log"
    done
    report
    ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  run)
    [ $# -ge 2 ] || { echo "usage: $0 run TARGET [libFuzzer flags]" >&2; exit 2; }
    shift
    run "$@"
    ;;
  replay)
    build
    for t in "${TARGETS[@]}"; do
      log="$BUILD/replay-$t.log"
      # -runs=0: the committed inputs are executed (leak checks included) and nothing is mutated.
      mkdir -p "$BUILD/replay-corpus/$t" "$BUILD/findings"
      if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$BUILD/${t}_fuzz" -runs=0 -rss_limit_mb=2048 \
        -malloc_limit_mb=2048 -timeout=10 -artifact_prefix="$BUILD/findings/$t-" \
        "$BUILD/replay-corpus/$t" $(find "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" -maxdepth 0 -type d 2>/dev/null) \
        >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: replaying $t's committed inputs failed (log: $log)" >&2
        exit 1
      fi
      echo "fuzz: $t: $(find "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" -type f 2>/dev/null | wc -l) committed inputs replayed cleanly"
    done
    ;;
  smoke)
    seconds=${2:-60}
    shift $(($# < 2 ? $# : 2))
    selected=("$@")
    [ ${#selected[@]} -gt 0 ] || selected=("${TARGETS[@]}")
    build
    for t in "${selected[@]}"; do
      echo "fuzz: $t for ${seconds} s"
      log="$BUILD/smoke-$t.log"
      # The same run on every machine and at every try: a fixed seed, and a scratch corpus that starts from the
      # committed inputs alone (not from build-fuzz/corpus, which campaigns grow). Stopped by time, a smoke is a prefix
      # of that one sequence of inputs, so a longer smoke that passed here vouches for a shorter one anywhere.
      rm -rf "$BUILD/smoke-corpus/$t"
      if ! CORPUS="$BUILD/smoke-corpus" run "$t" -seed=1 -max_total_time="$seconds" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: $t found a problem; the input is in $BUILD/findings/ (log: $log)" >&2
        exit 1
      fi
      grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" | tail -2 | sed "s/^/fuzz: $t: /"
    done
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
