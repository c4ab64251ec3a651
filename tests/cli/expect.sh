# The assertions of the CLI end-to-end scripts (cli_test.sh, grid_test.sh), sourced after they set $tmp.
failures=0
passed=0

# expect <name> <expected exit code> <regex that stdout+stderr must match> -- <command...>
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || ! cat "$tmp/out" "$tmp/err" | grep -Eq -- "$pattern"; then
    echo "FAIL: $name (exit $rc, expected $code; pattern '$pattern')"
    sed 's/^/  | /' "$tmp/out" "$tmp/err" | tail -n 25
    failures=$((failures + 1))
  else
    passed=$((passed + 1))
  fi
}

# check <name> <command...>: passes when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
