#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the sgx-quote-helper container image on a machine that can reach
# Debian's apt mirror but no container registry:
#   1. debootstrap a Debian 12 (bookworm) minbase rootfs, cached as a tarball;
#   2. `podman import` it as the base image (BASE, default
#      localhost/debian-base:bookworm);
#   3. `podman build` deploy/container/Containerfile with --build-arg BASE=...
# podman runs with runc and explicit ulimits (crun and the default ulimits
# fail on the CI machines; see docs/operations.md "Building the image").
#
# Usage: deploy/container/build.sh [--tag IMAGE] [--cache DIR] [--base-only]
#          [--provider sim|intel|azure] [--sgx-repo URL [--sgx-repo-suite S]
#          [--sgx-repo-key URL]] [--az-repo URL [--az-repo-suite S] [--az-repo-key URL]]
#          [--standin-repo URL] [--file CONTAINERFILE] [--build-arg K=V]...
#   --provider       the quote provider in the image (Containerfile PROVIDER;
#                    default sim); the repository options override the
#                    Containerfile's defaults (Intel's and Microsoft's)
#   --standin-repo   the local stand-in repositories of deploy/standins/build-repo.sh
#                    served at URL: URL/intel and URL/microsoft (suite "stable",
#                    keys URL/intel/key.asc, URL/microsoft/key.asc)
#   --file           another Containerfile with the same context (the sample app)
# A repository on 127.0.0.1 is reached with `--network host` during the build.
# Environment: SGXQH_E2E_CACHE (cache dir, default <repo>/build-e2e/cache),
#              DEBIAN_MIRROR (default: the mirror this machine's apt uses).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
tag=localhost/sgx-quote-helper:dev
base=localhost/debian-base:bookworm
cache=${SGXQH_E2E_CACHE:-$repo/build-e2e/cache}
base_only=0
containerfile=deploy/container/Containerfile
build_args=()
net=()
repo_arg() { # NAME VALUE: a build argument; loopback URLs need the host network
  build_args+=(--build-arg "$1=$2")
  case $2 in http://127.0.0.1:*|http://localhost:*) net=(--network host) ;; esac
}
while [ $# -gt 0 ]; do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --base-only) base_only=1; shift ;;
    --provider) build_args+=(--build-arg "PROVIDER=$2"); shift 2 ;;
    --sgx-repo) repo_arg SGX_REPO_URL "$2"; shift 2 ;;
    --sgx-repo-suite) repo_arg SGX_REPO_SUITE "$2"; shift 2 ;;
    --sgx-repo-key) repo_arg SGX_REPO_KEY_URL "$2"; shift 2 ;;
    --az-repo) repo_arg AZ_REPO_URL "$2"; shift 2 ;;
    --az-repo-suite) repo_arg AZ_REPO_SUITE "$2"; shift 2 ;;
    --az-repo-key) repo_arg AZ_REPO_KEY_URL "$2"; shift 2 ;;
    --standin-repo)
      for p in SGX:intel AZ:microsoft; do
        repo_arg "${p%%:*}_REPO_URL" "$2/${p#*:}"
        repo_arg "${p%%:*}_REPO_SUITE" stable
        repo_arg "${p%%:*}_REPO_KEY_URL" "$2/${p#*:}/key.asc"
      done
      shift 2 ;;
    --file) containerfile=$2; shift 2 ;;
    --build-arg) build_args+=(--build-arg "$2"); shift 2 ;;
    -h|--help) sed -n '3,27p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

PODMAN=(podman --runtime /usr/sbin/runc)
ULIMITS=(--ulimit nproc=4096:4096 --ulimit nofile=1024:1024)

# The Debian mirror apt already uses here (deb822 or one-line format).
detect_mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' \
          /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
  if [ -z "$uri" ]; then
    uri=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]]\+bookworm[[:space:]].*/\2/p' \
            /etc/apt/sources.list 2>/dev/null | head -1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${DEBIAN_MIRROR:-$(detect_mirror)}
security_mirror=${mirror%/debian}/debian-security

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
for tool in podman debootstrap; do
  need "$tool" || { echo "build.sh: $tool is missing (apt-get install podman runc debootstrap)" >&2; exit 1; }
done
[ -x /usr/sbin/runc ] || { echo "build.sh: /usr/sbin/runc is missing (apt-get install runc)" >&2; exit 1; }

# 1. The base rootfs tarball (the slow step: a few minutes, then cached).
mkdir -p "$cache"
tarball=$cache/debian-bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "build.sh: debootstrap needs root" >&2; exit 1; }
  work=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "build.sh: debootstrap bookworm minbase from $mirror (cached in $tarball)"
  debootstrap --variant=minbase --components=main bookworm "$work/rootfs" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  cat > "$work/rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
SOURCES
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"
  trap - EXIT
fi

# 2. Import it once (re-import when the tarball is newer than the image).
tar_mtime=$(stat -c %Y "$tarball")
img_label=$("${PODMAN[@]}" image inspect --format '{{index .Labels "org.sgxqh.rootfs-mtime"}}' \
              "$base" 2>/dev/null || true)
if [ "$img_label" != "$tar_mtime" ]; then
  echo "build.sh: podman import $tarball as $base"
  "${PODMAN[@]}" import --change "LABEL org.sgxqh.rootfs-mtime=$tar_mtime" \
    --change 'CMD ["/bin/bash"]' "$tarball" "$base" >/dev/null
fi
[ "$base_only" -eq 1 ] && exit 0

# 3. The image itself, from a clean copy of the source tree: tracked and
# new files that git does not ignore (no build directories, node_modules or
# the rootfs cache in the build context).
ctx=$(mktemp -d "${TMPDIR:-/tmp}/sqh-ctx.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -co --exclude-standard -z |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -xf - -C "$ctx"
else
  tar -C "$repo" --exclude='./build*' --exclude='./.git' --exclude='*/node_modules' \
    -cf - . | tar -xf - -C "$ctx"
fi
echo "build.sh: podman build $tag (BASE=$base ${build_args[*]})"
"${PODMAN[@]}" build "${ULIMITS[@]}" --layers "${net[@]}" \
  --build-arg "BASE=$base" "${build_args[@]}" \
  -f "$ctx/$containerfile" -t "$tag" "$ctx"
