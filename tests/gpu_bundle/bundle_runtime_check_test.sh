#!/usr/bin/env bash
# scripts/bundle_runtime_check.py on libraries built here: a bundle library that needs a symbol version its
# machine's copy lacks, or a library neither has, is named with what it lacks; a machine that has it all passes.
set -euo pipefail
CHECK=$(realpath "$(dirname "$0")/../../scripts/bundle_runtime_check.py")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p old new bundle machine
echo 'int foo1(void) { return 1; }' >foo1.c
printf 'int foo1(void) { return 1; }\nint foo2(void) { return 2; }\n' >foo2.c
echo 'FOO_1.0 { global: foo1; local: *; };' >v1.map
printf 'FOO_1.0 { global: foo1; local: *; };\nFOO_2.0 { global: foo2; } FOO_1.0;\n' >v2.map
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -Wl,--version-script,v1.map foo1.c -o old/libfoo.so.1
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -Wl,--version-script,v2.map foo2.c -o new/libfoo.so.1
echo 'int gone(void) { return 3; }' >gone.c
gcc -shared -fPIC -Wl,-soname,libgone.so.3 gone.c -o new/libgone.so.3
echo 'int foo2(void); int gone(void); int bar(void) { return foo2() + gone(); }' >bar.c
gcc -shared -fPIC -Wl,-soname,libbar.so.1 -Wl,--no-as-needed bar.c new/libfoo.so.1 new/libgone.so.3 -o bundle/libbar.so.1

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expected-exit-code pattern machine-files...
  local code=$1 pattern=$2
  shift 2
  rm -f machine/*
  cp -L "$(gcc -print-file-name=libc.so.6)" machine/  # every library needs it
  [ $# -eq 0 ] || cp "$@" machine/
  set +e
  out=$(python3 "$CHECK" bundle --machine-libs machine 2>&1)
  rc=$?
  set -e
  [ "$rc" = "$code" ] || fail "exit $rc, expected $code, with $* ($out)"
  grep -qF -- "$pattern" <<<"$out" || fail "no '$pattern' in: $out"
  echo "ok: exit $rc, '$pattern'"
}
expect 0 "libfoo.so.1 (FOO_2.0); libgone.so.3" new/libfoo.so.1 new/libgone.so.3
expect 1 "libfoo.so.1 (machine/libfoo.so.1) lacks FOO_2.0, needed by libbar.so.1" old/libfoo.so.1 new/libgone.so.3
expect 1 "libgone.so.3: not on this machine and not in the bundle; needed by libbar.so.1" new/libfoo.so.1
cp new/libgone.so.3 bundle/
expect 0 "which has them: libc.so.6 (GLIBC_2.2.5); libfoo.so.1 (FOO_2.0)" new/libfoo.so.1
! grep -q libgone <<<"$out" || fail "libgone.so.3 is in the bundle, yet asked of the machine: $out"
