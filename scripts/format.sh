#!/usr/bin/env bash
# Applies .clang-format to every C++ file of the project; with --check, only reports the files
# that differ and fails when there are any (run by ctest as the clang_format test).
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp' '*.cpp.in' |
    while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
  mapfile -t files < <(find apps bench include src tests -name '*.cpp' -o -name '*.hpp' -o -name '*.cpp.in' | sort)
fi
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run -Werror "${files[@]}"
  echo "clang-format: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
