#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages from this tree (committed or not) into
# build-deb/: dpkg-buildpackage writes next to the source directory, so the
# tree is copied to build-deb/src/ first and the results are moved up; the
# parent directory of the clone is never touched. Then lintian checks them
# (--fail-on warning; the overrides that remain say why in debian/*.lintian-overrides).
# Usage: scripts/build-deb.sh [--no-lintian]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build-deb
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$out/src/sgx-quote-helper-$version

rm -rf "$out"
mkdir -p "$src"
# The files git knows about (tracked and new), without the ignored build trees.
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$src" -xf -

# No -dbgsym packages: `apt-get install ./*.deb` should install the five.
(cd "$src" && DEB_BUILD_OPTIONS="noautodbgsym ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -b -us -uc -j"$(nproc)") > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log"
  echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
rm -rf "$out/src"
ls -1 "$out"/*.deb

if [ "${1:-}" != --no-lintian ]; then
  lintian --fail-on error,warning --suppress-tags-from-file /dev/null \
    --info --display-level '>=warning' "$out"/*.changes
fi
