#!/usr/bin/env bash
# One command from a fresh machine to a verdict: builds the test bed, then runs the check (the same engine
# as the action, through its command line) against the bed's BuildKit, and prints the verdict.
# Usage: scripts/repro.sh [VERSION] [rootful|rootless] [fuzz] [more lost-layer-check flags...]
#   VERSION: any BuildKit release from v0.7.0 on (built here on first use), or `latest`, the newest release;
#   defaults: v0.9.0 rootless (the seed's moby/buildkit:v0.9.0-rootless), 40 attempts.
# Exit status as lost-layer-check's: 1 an image was not the reference (a class fail-on names), 0 none, 2 no verdict.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
version=${1:-v0.9.0}
variant=${2:-rootless}
shift $(($# > 2 ? 2 : $#))
# `fuzz` runs the fuzzer's command (generated cases) instead of the check of one Dockerfile.
command=()
if [ "${1:-}" = fuzz ]; then command=(fuzz); shift; fi

[ -d node_modules ] || npm ci --no-audit --no-fund
# Only the release asked for is built (about 40 s the first time), whatever the bed's ladder lists.
export TESTBED_BUILDKIT_VERSIONS=$version
bash scripts/testbed.sh up
while IFS='=' read -r key value; do export "$key=$value"; done < <(bash scripts/testbed.sh env)
version=$TESTBED_BUILDKIT_VERSIONS

# buildctl comes through the action's real download path, from release tarballs served on 127.0.0.1.
url_file=$(mktemp)
node --import tsx scripts/lib/release-server.ts "$TESTBED_RELEASES_DIR" >"$url_file" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$url_file"' EXIT
for _ in $(seq 1 50); do [ "$(wc -l <"$url_file")" -ge 2 ] && break; sleep 0.1; done
# The same server answers GitHub's release API, for the digest the download is checked against.
export GITHUB_API_URL
GITHUB_API_URL=$(sed -n 2p "$url_file")

if [ "$variant" = rootless ]; then image_suffix=-rootless; options=$TESTBED_ROOTLESS_OPTIONS; else image_suffix=; options=$TESTBED_ROOTFUL_OPTIONS; fi
status=0
node dist/cli/index.js "${command[@]}" \
  --buildkit-image "$TESTBED_IMAGE_NAMESPACE/buildkit:$version$image_suffix" \
  --registry-image "$TESTBED_REGISTRY_IMAGE" \
  --mirror-upstream none \
  --mirror-images "$TESTBED_BASE_IMAGE=library/alpine:latest" \
  --buildkitd-container-options="$options" \
  --buildctl-url "$(head -n 1 "$url_file")" \
  --retries "${RETRIES:-40}" \
  "$@" || status=$?
exit "$status"
