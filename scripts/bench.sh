#!/usr/bin/env bash
# Builds once, then runs every benchmark in dist/bench, or only those named:
#   npm run bench                 all of bench/*.bench.ts, one after the other
#   npm run bench -- tokens spine  just these
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build --silent

if [ "$#" -gt 0 ]; then
  files=()
  for name in "$@"; do files+=("dist/bench/${name%.bench}.bench.js"); done
else
  files=(dist/bench/*.bench.js)
fi

for file in "${files[@]}"; do
  if [ ! -f "$file" ]; then
    echo "bench: no $file (benchmarks: $(cd dist/bench && ls *.bench.js | sed 's/\.bench\.js//' | tr '\n' ' '))" >&2
    exit 1
  fi
  echo "== ${file#dist/bench/}"
  node --enable-source-maps "$file"
done
