#!/usr/bin/env bash
# Builds the offline test bed from nothing, and reuses what is already built:
#   - a Docker engine (Debian's docker.io), started when it does not answer;
#   - images made here, under our own namespace: a registry, an `alpine` stand-in, and BuildKit
#     (rootful and rootless) for every version in testbed/buildkit-versions;
#   - release-shaped tarballs buildkit-vX.linux-amd64.tar.gz for the action's download path.
# Usage: scripts/testbed.sh [up|env|releases]
#   up        (default) everything above; idempotent, quick when warm
#   env       print the variables that tests and the repro use (after `up`)
#   releases  print the last patch release of every minor from v0.7 to the newest, as Go's proxy serves them
# Environment: TESTBED_BUILDKIT_VERSIONS overrides the version list ("v0.8.3 v0.9.0 latest ...");
#              `latest` is the newest release the Go module proxy serves (go list -m …@latest);
#              TESTBED_CACHE is where binaries and tarballs are kept (default /var/cache/lost-layer-testbed).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TESTBED_CACHE:-/var/cache/lost-layer-testbed}
namespace=lost-layer-testbed
label=dev.lost-layer.testbed
# Any change to this script rebuilds the images (binaries are keyed by version alone).
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
module=github.com/moby/buildkit
read -r -a version_words <<<"${TESTBED_BUILDKIT_VERSIONS:-$(grep -v '^#' "$repo/testbed/buildkit-versions" | tr '\n' ' ')}"

log() { printf '[testbed] %s\n' "$*" >&2; }

# The newest release, asked of the Go module proxy by `up` and remembered for `env`, so that the tests
# name the release that `up` built even if a new one appears in between.
newest_release() {
  local remembered=$cache/newest-release
  if [ "${1:-}" = ask ] || [ ! -s "$remembered" ]; then
    mkdir -p "$cache"
    ask_newest_release >"$remembered.tmp"
    mv "$remembered.tmp" "$remembered"
  fi
  cat "$remembered"
}

ask_newest_release() {
  (cd / && go list -m "$module@latest" | cut -d' ' -f2) || {
    log "go list -m $module@latest failed: the Go module proxy does not answer"
    exit 1
  }
}

resolve_versions() {
  versions=()
  local word
  for word in "${version_words[@]}"; do
    case $word in
      latest) versions+=("$(newest_release "${1:-}")") ;;
      v[0-9]*) versions+=("$word") ;;
      *)
        log "unknown BuildKit version '$word' (a release such as v0.9.1, or latest)"
        exit 2
        ;;
    esac
  done
}

# The last patch of every minor from v0.7 to the newest. The proxy's version list is not complete for this
# module, so every patch is asked for by name, up to the first one it does not serve.
last_patch_releases() {
  local newest top minor patch last
  # Asked, not remembered: only `up` decides which release `env` names.
  newest=$(ask_newest_release)
  top=${newest#v0.}
  top=${top%%.*}
  for minor in $(seq 7 "$top"); do
    last=
    for patch in $(seq 0 50); do
      (cd / && go list -m "$module@v0.$minor.$patch" >/dev/null 2>&1) || break
      last=v0.$minor.$patch
    done
    if [ -n "$last" ]; then echo "$last"; else log "v0.$minor: no release served by the Go module proxy"; fi
  done
}

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  [ -x /bin/busybox ] && /bin/busybox --list | grep -qx sh && file_is_static /bin/busybox || missing+=(busybox-static)
  [ -x /usr/sbin/runc ] || missing+=(runc)
  [ -x /usr/bin/rootlesskit ] || missing+=(rootlesskit)
  [ -x /usr/bin/newuidmap ] || missing+=(uidmap)
  # htpasswd: the test bed's registry with a login (a user's own cache, cache-ref).
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

# The servers of the remote cache backends, installed from the package registries: Azurite, and moto's S3 server
# (PyPI) in a venv of its own; 5.1.0 refused the signature of a key with a colon (every blob of BuildKit's).
# The tests start and stop them; nothing here runs them.
moto_version=5.2.5
# Azurite (npm): 3.35.0 is the last that runs on Node 20, and the version BuildKit's own tests pin.
azurite_version=3.35.0
# nektos/act (Go module), whose host executor runs the action as a runner would, without a runner image.
act_version=v0.2.89
ensure_act() {
  local bin=$cache/act-$act_version
  if [ ! -x "$bin/act" ]; then
    log "building nektos/act $act_version (about 30 s)"
    (cd / && GOFLAGS=-mod=mod GOBIN="$bin.tmp" go install "github.com/nektos/act@$act_version")
    mv "$bin.tmp" "$bin"
  fi
}

ensure_object_stores() {
  local azurite=$cache/azurite-$azurite_version
  if [ ! -e "$azurite/.complete" ]; then
    log "installing Azurite $azurite_version (Azure Blob Storage server) into $azurite"
    rm -rf "$azurite"
    npm install --silent --no-audit --no-fund --prefix "$azurite" "azurite@$azurite_version" >/dev/null
    touch "$azurite/.complete"
  fi
  local venv=$cache/moto-$moto_version
  # A venv's scripts name their interpreter by path, so it is made where it stays; .complete marks a
  # finished install, and anything else there is an interrupted one.
  if [ ! -e "$venv/.complete" ]; then
    log "installing moto $moto_version (S3 server) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
    touch "$venv/.complete"
  fi
}

ensure_dockerd() {
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd (log: $cache/dockerd.log)"
  mkdir -p "$cache"
  # setsid: dockerd outlives this script and the shell that ran it, as a system service would.
  setsid dockerd >"$cache/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  log "dockerd did not answer within 60 s; its log:"
  tail -n 30 "$cache/dockerd.log" >&2
  exit 1
}

# Copies a binary and every shared library ldd names for it into a rootfs.
copy_with_libs() {
  local rootfs=$1 bin=$2 dest=${3:-$2}
  install -D -m "$(stat -c '%a' "$bin")" "$bin" "$rootfs$dest"
  ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    [ -e "$rootfs$lib" ] || install -D "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

add_busybox() {
  local rootfs=$1
  install -D /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  mkdir -p "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  chmod 1777 "$rootfs/tmp"
}

image_is_current() {
  [ "$(docker image inspect -f "{{index .Config.Labels \"$label.recipe\"}}" "$1" 2>/dev/null)" = "$recipe" ]
}

# import_image NAME ROOTFS CHANGE... : a flat image from a folder, labelled with this recipe.
import_image() {
  local name=$1 rootfs=$2
  shift 2
  local changes=(--change "LABEL $label=true $label.recipe=$recipe")
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$rootfs" -c . | docker import "${changes[@]}" - "$name" >/dev/null
  log "image $name: $(docker image inspect -f '{{.Size}}' "$name" | numfmt --to=iec)"
}

build_registry_image() {
  local name=$namespace/registry:2.8
  image_is_current "$name" && return
  local rootfs
  rootfs=$(mktemp -d)
  copy_with_libs "$rootfs" /usr/bin/docker-registry
  install -D /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$rootfs/var/lib/registry" "$rootfs/tmp" "$rootfs/etc/docker/registry"
  cat >"$rootfs/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
YAML
  import_image "$name" "$rootfs" 'EXPOSE 5000' 'VOLUME /var/lib/registry' \
    'ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]'
  rm -rf "$rootfs"
}

# Stands in for alpine:latest: a shell and coreutils from Debian's busybox-static.
build_base_image() {
  local name=$namespace/alpine:latest
  image_is_current "$name" && return
  local rootfs
  rootfs=$(mktemp -d)
  add_busybox "$rootfs"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  import_image "$name" "$rootfs" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["/bin/sh"]'
  rm -rf "$rootfs"
}

# buildkitd and buildctl from the Go module at VERSION, cached per version.
build_buildkit_binaries() {
  local version=$1 out=$cache/buildkit/$1
  if [ -x "$out/buildkitd" ] && [ -x "$out/buildctl" ]; then return; fi
  log "building buildkitd and buildctl $version with $(go version | cut -d' ' -f3) (a few minutes)"
  local dir src
  dir=$(go mod download -json "github.com/moby/buildkit@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "go mod download github.com/moby/buildkit@$version failed"; exit 1; }
  # The module's own go.mod (with its replace lines) drives the build: copy it out of the
  # read-only module cache and build there, so `go install pkg@version`'s refusal does not apply.
  src=$(mktemp -d)
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  local v replace
  while read -r v replace; do
    [ "$v" = "$version" ] && (cd "$src" && go mod edit -replace "$replace")
  done < <(grep -v '^#' "$repo/testbed/go-replace")
  mkdir -p "$out.tmp"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$version" \
    -o "$out.tmp/" ./cmd/buildkitd ./cmd/buildctl)
  rm -rf "$src" "$out"
  mv "$out.tmp" "$out"
}

# The files both BuildKit images share: busybox, buildkitd, buildctl and Debian's runc.
buildkit_rootfs() {
  local rootfs=$1 bin=$2
  add_busybox "$rootfs"
  install -D "$bin/buildkitd" "$rootfs/usr/bin/buildkitd"
  install -D "$bin/buildctl" "$rootfs/usr/bin/buildctl"
  copy_with_libs "$rootfs" /usr/sbin/runc /usr/bin/runc
}

build_buildkit_images() {
  local version=$1 bin=$cache/buildkit/$1
  local rootful=$namespace/buildkit:$version rootless=$namespace/buildkit:$version-rootless
  local rootfs
  if ! image_is_current "$rootful"; then
    rootfs=$(mktemp -d)
    buildkit_rootfs "$rootfs" "$bin"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\n' >"$rootfs/etc/group"
    mkdir -p "$rootfs/var/lib/buildkit" "$rootfs/etc/buildkit" "$rootfs/run"
    import_image "$rootful" "$rootfs" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      'VOLUME /var/lib/buildkit' 'ENTRYPOINT ["buildkitd"]'
    rm -rf "$rootfs"
  fi
  # Like moby/buildkit:vX-rootless: rootlesskit maps uid 1000 to root in a user namespace.
  if ! image_is_current "$rootless"; then
    rootfs=$(mktemp -d)
    buildkit_rootfs "$rootfs" "$bin"
    copy_with_libs "$rootfs" /usr/bin/rootlesskit
    copy_with_libs "$rootfs" /usr/bin/newuidmap
    copy_with_libs "$rootfs" /usr/bin/newgidmap
    printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nuser:x:1000:\n' >"$rootfs/etc/group"
    printf 'user:100000:65536\n' >"$rootfs/etc/subuid"
    printf 'user:100000:65536\n' >"$rootfs/etc/subgid"
    mkdir -p "$rootfs/run/user/1000" "$rootfs/home/user/.local/share/buildkit" \
      "$rootfs/home/user/.local/tmp" "$rootfs/home/user/.config/buildkit"
    chown -R 1000:1000 "$rootfs/run/user/1000" "$rootfs/home/user"
    chmod 700 "$rootfs/run/user/1000"
    import_image "$rootless" "$rootfs" 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
      'ENV HOME=/home/user' 'ENV USER=user' 'ENV XDG_RUNTIME_DIR=/run/user/1000' \
      'ENV TMPDIR=/home/user/.local/tmp' \
      'ENV BUILDKIT_HOST=unix:///run/user/1000/buildkit/buildkitd.sock' \
      'USER 1000:1000' 'VOLUME /home/user/.local/share/buildkit' \
      'ENTRYPOINT ["rootlesskit", "buildkitd"]'
    rm -rf "$rootfs"
  fi
}

# The layout of BuildKit's GitHub release assets: bin/buildctl, bin/buildkitd.
build_release_tarball() {
  local version=$1 dir=$cache/releases/$1
  local name=buildkit-$version.linux-amd64.tar.gz
  [ -s "$dir/$name" ] && return
  local stage
  stage=$(mktemp -d)
  install -D "$cache/buildkit/$version/buildctl" "$stage/bin/buildctl"
  install -D "$cache/buildkit/$version/buildkitd" "$stage/bin/buildkitd"
  mkdir -p "$dir"
  tar --numeric-owner --owner=0 --group=0 -C "$stage" -czf "$dir/$name.tmp" bin
  mv "$dir/$name.tmp" "$dir/$name"
  (cd "$dir" && sha256sum "$name" >"$name.sha256")
  rm -rf "$stage"
}

# `docker run` options that work on this workplace's machines, where --privileged is refused (see the
# README's test bed section): all capabilities but SYS_RESOURCE, unconfined profiles, the host's cgroups.
rootful_options='--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup'
rootless_options='--security-opt seccomp=unconfined --security-opt apparmor=unconfined --cap-add SYS_ADMIN --security-opt systempaths=unconfined'

print_env() {
  printf 'TESTBED_IMAGE_NAMESPACE=%s\n' "$namespace"
  printf 'TESTBED_REGISTRY_IMAGE=%s\n' "$namespace/registry:2.8"
  printf 'TESTBED_BASE_IMAGE=%s\n' "$namespace/alpine:latest"
  printf 'TESTBED_RELEASES_DIR=%s\n' "$cache/releases"
  printf 'TESTBED_BUILDKIT_VERSIONS=%s\n' "${versions[*]}"
  printf 'TESTBED_ROOTFUL_OPTIONS=%s\n' "$rootful_options"
  printf 'TESTBED_ROOTLESS_OPTIONS=%s\n' "$rootless_options"
  printf 'TESTBED_S3_SERVER=%s\n' "$cache/moto-$moto_version/bin/moto_server"
  printf 'TESTBED_ACT=%s\n' "$cache/act-$act_version/act"
  printf 'TESTBED_AZBLOB_SERVER=%s\n' "$cache/azurite-$azurite_version/node_modules/.bin/azurite-blob"
}

up() {
  local started=$SECONDS
  resolve_versions ask
  ensure_packages
  ensure_dockerd
  ensure_object_stores
  ensure_act
  build_registry_image
  build_base_image
  for v in "${versions[@]}"; do
    build_buildkit_binaries "$v"
    build_buildkit_images "$v"
    build_release_tarball "$v"
  done
  # Images replaced by a new recipe: drop them, they are ours and nothing uses them.
  docker image prune --force --filter "label=$label" >/dev/null
  log "ready in $((SECONDS - started)) s: versions ${versions[*]}"
}

case "${1:-up}" in
  up) up ;;
  env)
    resolve_versions
    print_env
    ;;
  releases) last_patch_releases ;;
  *)
    echo "usage: $0 [up|env|releases]" >&2
    exit 2
    ;;
esac
