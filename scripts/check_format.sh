#!/usr/bin/env bash
# Checks every C/C++ file of the checkout (tracked, plus new files git does not ignore) against the root
# .clang-format; third_party/ and test fixture data (tests/data/) are left alone.
#   scripts/check_format.sh          lists the files clang-format would change (first changed line); exit 1 if any
#   scripts/check_format.sh --fix    reformats those files in place
#   CLANG_FORMAT=/path/to/clang-format scripts/check_format.sh    chooses the binary
# The style was tuned with clang-format 14 (Debian bookworm); other major versions may disagree on details.
# Exits 77 (the ctest SKIP_RETURN_CODE of the clang_format test) with a message when clang-format is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: scripts/check_format.sh [--fix]" >&2; exit 2 ;;
esac

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
  for candidate in clang-format clang-format-14; do
    if command -v "$candidate" >/dev/null; then cf=$candidate; break; fi
  done
fi
if [ -z "$cf" ] || ! command -v "$cf" >/dev/null; then
  echo "SKIP: clang-format not found (apt install clang-format, or AVSL_WITH_TEST_TOOLS=1 scripts/setup.sh)"
  exit 77
fi
version=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != 14 ]; then
  echo "check_format: note: $("$cf" --version) is not version 14, which the style was tuned with"
fi

files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' listed < <(git ls-files -z --cached --others --exclude-standard -- '*.h' '*.hpp' '*.cc' '*.cpp')
else  # an unpacked source tarball
  mapfile -d '' listed < <(find . \( -name 'build*' -o -name '.?*' \) -prune -o \
    -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cc' -o -name '*.cpp' \) -printf '%P\0')
fi
for f in "${listed[@]}"; do
  case "$f" in
    third_party/* | */third_party/* | tests/data/*) continue ;;
  esac
  [ -f "$f" ] && files+=("$f")  # a file deleted or moved in the working tree is still in the index
done
if ((${#files[@]} == 0)); then
  echo "check_format: no C/C++ files found"
  exit 0
fi

if ((fix)); then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$cf" --style=file -i
  echo "check_format: formatted ${#files[@]} files with $cf"
  exit 0
fi

# One error per file (--ferror-limit=1): "path:line:col: error: code should be clang-formatted".
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 50 "$cf" --style=file --dry-run -Werror --ferror-limit=1 2>&1 |
  grep -E ':[0-9]+:[0-9]+: (error|warning): code should be clang-formatted' | sed -E 's/:[0-9]+: (error|warning):.*//' |
  sort -t: -k1,1 -u || true)
if [ -n "$report" ]; then
  echo "$report" | sed 's/^/needs clang-format: /'
  echo "check_format: $(echo "$report" | wc -l) of ${#files[@]} files differ from .clang-format;" \
    "fix with: scripts/check_format.sh --fix"
  exit 1
fi
echo "check_format: ${#files[@]} files match .clang-format"
