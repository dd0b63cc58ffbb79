#!/usr/bin/env bash
# Which BuildKit releases name, in their own go.mod, a `replace` target that the Go module proxy refuses, and
# whether testbed/go-replace gives each of them a line. It reads go.mod files and asks the proxy for .info
# only: nothing is built or downloaded whole.
# Usage: scripts/go-replaces.sh [VERSION...]   (default: every release from v0.7.0 to the newest)
# Exit status: 1 when a refused target has no line in testbed/go-replace.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module=github.com/moby/buildkit
cd /

every_release() {
  local newest top minor patch
  newest=$(go list -m "$module@latest" | cut -d' ' -f2)
  top=${newest#v0.}
  top=${top%%.*}
  for minor in $(seq 7 "$top"); do
    for patch in $(seq 0 50); do
      go list -m "$module@v0.$minor.$patch" >/dev/null 2>&1 || break
      echo "v0.$minor.$patch"
    done
  done
}

# "OLD NEW@VERSION" for each replace directive of a go.mod that points at another module version.
replace_targets() {
  awk '
    /^replace \(/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    /^replace / { sub(/^replace /, ""); print; next }
    block { print }
  ' "$1" | sed -n 's/^\s*\([^ ]*\)\( [^ ]*\)\? => \([^ ]*\) \(v[^ ]*\)\s*$/\1 \3@\4/p'
}

declare -A refused=()
missing=0
read -r -a versions <<<"${*:-$(every_release | tr '\n' ' ')}"
for version in "${versions[@]}"; do
  gomod=$(go list -m -json "$module@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  while read -r old target; do
    [ -n "$target" ] || continue
    if [ -z "${refused[$target]+x}" ]; then
      if go list -m "$target" >/dev/null 2>&1; then refused[$target]=no; else refused[$target]=yes; fi
    fi
    [ "${refused[$target]}" = yes ] || continue
    if grep -q "^$version $old=" "$repo/testbed/go-replace"; then
      echo "$version: $old => $target is refused by the proxy; testbed/go-replace has a line for it"
    else
      echo "$version: $old => $target is refused by the proxy; testbed/go-replace has NO line for it"
      missing=1
    fi
  done < <(replace_targets "$gomod")
done
echo "checked ${#versions[@]} releases, ${#refused[@]} distinct replace targets" >&2
exit "$missing"
