#!/usr/bin/env bash
# Every test, from a fresh machine of ours: npm packages, the test bed (Docker engine, images, BuildKit
# built from source for every release of testbed/buildkit-versions), then the unit suite and the end-to-end suite against real BuildKit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/testbed.sh up
# The end-to-end suites run the bundle the runner runs: build it from the sources under test.
npm run -s bundle >/dev/null
node --import tsx --test --test-concurrency=1 test/unit/*.test.ts test/e2e/*.test.ts
