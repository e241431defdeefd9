#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing need on Debian 12, only when missing.
# Usage: scripts/install-deps.sh [build|check|deb]
set -euo pipefail
want=${1:-build}

build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libssl-dev libjansson-dev
  protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev
  python3 libcmocka-dev scdoc)
# (cmocka is in build_pkgs because a default `meson setup` builds the tests.)
check_pkgs=(clang libclang-rt-14-dev nodejs npm yamllint curl python3-yaml python3-cryptography systemd)
# make deb (and make check, which builds the packages and runs lintian).
deb_pkgs=(debhelper dpkg-dev fakeroot lintian)

pkgs=("${build_pkgs[@]}")
[ "$want" = check ] && pkgs+=("${check_pkgs[@]}" "${deb_pkgs[@]}")
[ "$want" = deb ] && pkgs+=("${deb_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # node/npm may come from outside apt (e.g. a preinstalled toolchain)
  case $p in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$want" = check ]; then
  # The independent verifier used by the tests (npm, test-only).
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -d "$here/tests/node/node_modules/@phala/dcap-qvl" ]; then
    echo "install-deps: npm install (tests/node)"
    (cd "$here/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # Offline Kubernetes schemas for the manifest checks (deploy/tools).
  if [ ! -d "$here/deploy/tools/node_modules/kubernetes-models" ]; then
    echo "install-deps: npm install (deploy/tools)"
    (cd "$here/deploy/tools" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
