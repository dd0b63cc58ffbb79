#!/usr/bin/env bash
# Every test, from a fresh machine of ours: npm packages, the test bed (Docker engine, images, BuildKit
# built from source for every release of testbed/buildkit-versions), then the unit suite (with its line
# coverage) and the end-to-end suite against real BuildKit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/testbed.sh up
# The end-to-end suites run the bundle the runner runs: build it from the sources under test.
npm run -s bundle >/dev/null

# Line coverage is a report, not a gate: a Node that cannot compute it runs the unit suite without it.
# Node's runner maps the figures to the .ts files through tsx's source maps; its lcov reporter (Node 20.11
# on) gives the line counts that the per-folder sums below need.
coverage_supported() {
  node --help | grep -q -- '--experimental-test-coverage' &&
    node -e "process.exit(require('node:test/reporters').lcov ? 0 : 1)"
}

# Lines hit / lines per folder of src/, from an lcov file, over the files the unit tests load (as Node's
# table). A file no unit test loads is named, not counted: many of them hold types only, which leave no code.
coverage_by_folder() {
  local lcov=$1
  [ -s "$lcov" ] || return 1
  { sed -n -e 's|^SF:'"$repo"'/|SF:|' -e '/^SF:/p' -e '/^L[FH]:/p' "$lcov"
    find src -name '*.ts' | sed 's/^/SRC:/'; } |
    awk -F: '
      function folder(file) { return split(file, part, "/") > 2 ? part[1] "/" part[2] : "src/*.ts" }
      $1 == "SF" { file = $2 } $1 == "LF" { found[file] = $2 } $1 == "LH" { hit[file] = $2 }
      $1 == "SRC" { sources[$2] = 1 }
      END {
        for (file in sources) {
          f = folder(file); seen[f] = 1
          if (file in found) { total[f] += found[file]; covered[f] += hit[file]; all += found[file]; allHit += hit[file] }
          else { n = split(file, part, "/"); unloaded[f] = unloaded[f] " " part[n] }
        }
        print "0\tunit line coverage of src/ (lines hit / lines of the files the unit tests load):"
        for (f in seen) {
          rate = total[f] ? sprintf("%6.2f%%", 100 * covered[f] / total[f]) : "     -"
          printf "1\t  %-16s %s  %5d / %-5d %s\n", f, rate, covered[f], total[f], unloaded[f] ? " not loaded:" unloaded[f] : ""
        }
        printf "2\t  %-16s %6.2f%%  %5d / %-5d\n", "src/", 100 * allHit / all, allHit, all
      }' | sort -t "$(printf '\t')" -k1,1n -k2,2 | cut -f2-
}

unit_tests=(test/unit/*.test.ts)
if coverage_supported; then
  coverage_dir=$(mktemp -d)
  trap 'rm -rf "$coverage_dir"' EXIT
  # Newer Node can leave test files out of the table; Node 20 lists them too.
  include=()
  if node --help | grep -q -- '--test-coverage-include'; then include=(--test-coverage-include='src/**'); fi
  node --import tsx --enable-source-maps --experimental-test-coverage "${include[@]}" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=lcov --test-reporter-destination="$coverage_dir/lcov.info" \
    --test "${unit_tests[@]}"
  coverage=$(coverage_by_folder "$coverage_dir/lcov.info") || coverage='unit line coverage: not computed'
  echo "$coverage"
else
  coverage="unit line coverage: not computed (Node $(node --version) has no coverage or no lcov reporter)"
  echo "$coverage"
  node --import tsx --test "${unit_tests[@]}"
fi

node --import tsx --test --test-concurrency=1 test/e2e/*.test.ts
echo "$coverage"
