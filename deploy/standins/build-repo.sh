#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a LOCAL apt repository of stand-in packages for Intel's DCAP runtime
# and Microsoft's Azure DCAP client, for `make e2e` only. We cannot reach SGX
# hardware, Intel's repository or Microsoft's here; these packages carry the
# real package names, file paths and sonames, with our ABI test doubles
# (tests/hwdouble) inside, so the image build installs them exactly as it
# would install the real ones (deploy/container/Containerfile, PROVIDER=intel
# or azure, with the repository build arguments pointed here).
#
#   package                  installs (stand-in content)
#   libsgx-pce-logic         /usr/lib/x86_64-linux-gnu/libsgx_pce_logic.so.1 (PCE double)
#   libsgx-qe3-logic         /usr/lib/x86_64-linux-gnu/libsgx_qe3_logic.so    (QE3 double;
#                            Intel ships it without .so.1)
#   libsgx-ae-pce/-qe3/-id-enclave  the signed enclave files next to them (placeholders;
#                            the QE3 double checks that its enclave file is there)
#   libsgx-dcap-default-qpl  /usr/lib/x86_64-linux-gnu/libdcap_quoteprov.so.1 (QPL double)
#                            + /etc/sgx_default_qcnl.conf
#   az-dcap-client           /usr/lib/libdcap_quoteprov.so (QPL double; Microsoft's
#                            package installs the unversioned name under /usr/lib)
#   libsgx-tdx-logic1        /usr/lib/x86_64-linux-gnu/libsgx_tdx_logic.so.1 (TDX double:
#                            Intel's TD quoting library, the host QGS's backend)
#   libsgx-ae-tdqe           libsgx_tdqe.signed.so.1 beside it (placeholder: the TD
#                            quoting enclave; the TDX double does not open it)
#
# Two repositories, as in the real world: DIR/intel (Intel's packages) and
# DIR/microsoft (az-dcap-client), each signed with its own throwaway GPG key
# made here (never reused, never trusted outside this directory): apt checks
# the signatures exactly as it checks Intel's and Microsoft's, through
# `signed-by=` the key file served next to each (key.asc). No `[trusted=yes]`.
#
# Usage: deploy/standins/build-repo.sh [--out DIR] [--build-dir DIR]
#   --out DIR        repository directory (default build-e2e/standin-repo)
#   --build-dir DIR  meson build tree with the doubles (default: build/ when it is
#                    configured (`make e2e` builds it first), else build-e2e/standins-build,
#                    configured here; the host is Debian 12, like the image)
# Prints the repository directory. Serve it with
#   python3 -m http.server --bind 127.0.0.1 PORT --directory DIR
# and build with --standin-repo http://127.0.0.1:PORT (deploy/container/build.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/build-e2e/standin-repo
bdir=$repo/build-e2e/standins-build
[ -f "$repo/build/build.ninja" ] && bdir=$repo/build
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --build-dir) bdir=$2; shift 2 ;;
    -h|--help) sed -n '3,39p' "$0"; exit 0 ;;
    *) echo "build-repo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for tool in dpkg-deb dpkg-scanpackages gpg meson ninja patchelf; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "build-repo.sh: $tool is missing (apt-get install dpkg-dev gnupg meson ninja-build patchelf)" >&2; exit 1; }
done

# Version of every stand-in: a current DCAP release's number (the doubles
# model DCAP 1.22 and doctor checks the release), sorting just below the
# real package of that release ("~"), and saying what it is.
VERSION=1.22.100.3~standin1
ARCH=amd64
MULTIARCH=x86_64-linux-gnu

# ---- 1. the doubles (release build, no sanitizers) ----
logs=$repo/build-e2e
mkdir -p "$logs"
if [ ! -f "$bdir/build.ninja" ]; then
  meson setup "$bdir" "$repo" --buildtype=release -Dtests=true >"$logs/standins-setup.log" 2>&1 ||
    { tail -20 "$logs/standins-setup.log" >&2; exit 1; }
fi
# Every library target under tests/hwdouble (the QE3, PCE, TDX and the QPL
# doubles in Intel's and Azure's flavours).
mapfile -t targets < <(ninja -C "$bdir" -t targets all 2>/dev/null |
  sed -n 's#^\(tests/hwdouble/\(azure/\)\{0,1\}lib[a-z0-9_]*\.so[.0-9]*\): .*#\1#p')
[ ${#targets[@]} -gt 0 ] || { echo "build-repo.sh: no test doubles in $bdir (-Dtests=true?)" >&2; exit 1; }
ninja -C "$bdir" "${targets[@]}" >"$logs/standins-ninja.log" 2>&1 ||
  { tail -20 "$logs/standins-ninja.log" >&2; exit 1; }
dbl=$bdir/tests/hwdouble
have_qpl=0
[ -e "$dbl/libdcap_quoteprov.so.1" ] && have_qpl=1

# ---- 2. the packages ----
work=$(mktemp -d "${TMPDIR:-/tmp}/sqh-standins.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
for r in intel microsoft; do mkdir -p "$out/$r/pool/main" "$out/$r/dists/stable/main/binary-$ARCH"; done

# pkg NAME DEPENDS DESCRIPTION SRC:DEST[:MODE] ... ; DEST is absolute.
# Into repository $r (intel or microsoft).
r=intel
pkg() {
  local name=$1 depends=$2 desc=$3; shift 3
  local root=$work/$name spec src dest mode
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$name"
  for spec in "$@"; do
    IFS=: read -r src dest mode <<<"$spec"
    if [ "${src#@}" != "$src" ]; then # @TARGET: a symbolic link to TARGET
      mkdir -p "$(dirname "$root$dest")"
      ln -s "${src#@}" "$root$dest"
    else
      install -D -m "${mode:-0644}" "$src" "$root$dest"
    fi
  done
  {
    echo "Package: $name"
    echo "Version: $VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: sgx-quote-helper e2e <noreply@invalid>"
    [ -n "$depends" ] && echo "Depends: $depends"
    echo "Section: libs"
    echo "Priority: optional"
    echo "Description: STAND-IN for $desc (sgx-quote-helper e2e tests only)"
    echo " Not Intel's or Microsoft's package: a test double with the real name,"
    echo " paths and sonames. It cannot make genuine quotes."
  } >"$root/DEBIAN/control"
  if [ -d "$root/etc" ]; then
    (cd "$root" && find etc -type f -printf '/%p\n') >"$root/DEBIAN/conffiles"
  fi
  printf 'Stand-in package built by deploy/standins/build-repo.sh.\n' \
    >"$root/usr/share/doc/$name/README.standin"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/$r/pool/main/${name}_${VERSION}_$ARCH.deb" >/dev/null
}

lib=/usr/lib/$MULTIARCH
placeholder() { printf 'stand-in for %s: not an enclave\n' "$1" >"$work/$1"; echo "$work/$1"; }
pkg libsgx-ae-pce "" "Intel(R) SGX PCE enclave" \
  "$(placeholder libsgx_pce.signed.so.1):$lib/libsgx_pce.signed.so.1"
# The QE3 logic looks for its enclave next to itself; releases differ in
# the name (.so.1, or .so before), so both are there.
pkg libsgx-ae-qe3 "" "Intel(R) SGX QE3 enclave" \
  "$(placeholder libsgx_qe3.signed.so.1):$lib/libsgx_qe3.signed.so.1" \
  "@libsgx_qe3.signed.so.1:$lib/libsgx_qe3.signed.so"
pkg libsgx-ae-id-enclave "" "Intel(R) SGX ID enclave" \
  "$(placeholder libsgx_id_enclave.signed.so.1):$lib/libsgx_id_enclave.signed.so.1"
pkg libsgx-pce-logic "libsgx-ae-pce (= $VERSION)" "Intel(R) SGX PCE logic library" \
  "$dbl/libsgx_pce_logic.so.1:$lib/libsgx_pce_logic.so.1"
# Intel's package has no libsgx_qe3_logic.so.1: give the double the
# unversioned soname too, or ldconfig in the image would make a .so.1 link
# from the double's DT_SONAME and hide the daemon's fallback to the .so name.
if [ -f "$dbl/libsgx_qe3_logic.so" ] && [ ! -L "$dbl/libsgx_qe3_logic.so" ]; then
  cp "$dbl/libsgx_qe3_logic.so" "$work/libsgx_qe3_logic.so"
else
  cp -L "$dbl/libsgx_qe3_logic.so.1" "$work/libsgx_qe3_logic.so"
fi
patchelf --set-soname libsgx_qe3_logic.so "$work/libsgx_qe3_logic.so"
pkg libsgx-qe3-logic "libsgx-ae-qe3 (= $VERSION), libsgx-ae-id-enclave (= $VERSION), libsgx-pce-logic (= $VERSION)" \
  "Intel(R) SGX QE3 logic library" \
  "$work/libsgx_qe3_logic.so:$lib/libsgx_qe3_logic.so"

# Intel's default QCNL configuration, as the real package installs it
# (JSON; the deployment replaces it: ConfigMap in the intel-device-plugin overlay).
cat >"$work/sgx_default_qcnl.conf" <<'EOF'
{
  "pccs_url": "https://localhost:8081/sgx/certification/v4/",
  "use_secure_cert": true,
  "retry_times": 6,
  "retry_delay": 10,
  "pck_cache_expire_hours": 168,
  "verify_collateral_cache_expire_hours": 168,
  "local_cache_only": false
}
EOF
qpl_files=("$work/sgx_default_qcnl.conf:/etc/sgx_default_qcnl.conf")
az_files=()
if [ "$have_qpl" -eq 1 ]; then
  qpl_files+=("$dbl/libdcap_quoteprov.so.1:$lib/libdcap_quoteprov.so.1")
  # Microsoft's library is named (and has the soname) libdcap_quoteprov.so;
  # the double's Azure flavour when built, else the Intel one renamed.
  if [ -e "$dbl/azure/libdcap_quoteprov.so" ]; then
    cp -L "$dbl/azure/libdcap_quoteprov.so" "$work/libdcap_quoteprov.so"
  else
    cp -L "$dbl/libdcap_quoteprov.so.1" "$work/libdcap_quoteprov.so"
  fi
  patchelf --set-soname libdcap_quoteprov.so "$work/libdcap_quoteprov.so"
  az_files+=("$work/libdcap_quoteprov.so:/usr/lib/libdcap_quoteprov.so")
else
  echo "build-repo.sh: note: no QPL double in $bdir (tests/hwdouble/libdcap_quoteprov.so.1);" \
       "libsgx-dcap-default-qpl and az-dcap-client carry no library" >&2
  az_files+=("$(placeholder az-dcap-client.README):/usr/share/doc/az-dcap-client/README.nolib")
fi
pkg libsgx-dcap-default-qpl "" "Intel(R) SGX DCAP default quote provider library" "${qpl_files[@]}"

# TDX: Intel's TD quoting library and the TD quoting enclave (an SGX enclave
# on the TDX host), the names Intel's repository uses. The library loads
# the TD-QE and the ID enclave next to itself and the PCE through the PCE
# logic: hence these dependencies (the QPL it opens by name, as the QE3
# logic does, and the image installs it separately).
if [ -e "$dbl/libsgx_tdx_logic.so.1" ]; then
  pkg libsgx-ae-tdqe "" "Intel(R) TDX quoting enclave (TD-QE)" \
    "$(placeholder libsgx_tdqe.signed.so.1):$lib/libsgx_tdqe.signed.so.1"
  pkg libsgx-tdx-logic1 \
    "libsgx-ae-tdqe (= $VERSION), libsgx-ae-id-enclave (= $VERSION), libsgx-pce-logic (= $VERSION)" \
    "Intel(R) TDX quote generation library" \
    "$dbl/libsgx_tdx_logic.so.1:$lib/libsgx_tdx_logic.so.1"
else
  echo "build-repo.sh: note: no TDX double in $bdir (tests/hwdouble/libsgx_tdx_logic.so.1);" \
       "libsgx-tdx-logic1 and libsgx-ae-tdqe are not built" >&2
fi
r=microsoft
pkg az-dcap-client "" "Azure DCAP client (quote provider library)" "${az_files[@]}"

# ---- 3. the indexes and their signatures ----
export GNUPGHOME=$work/gnupg
mkdir -m 0700 "$GNUPGHOME"
for r in intel microsoft; do
  rd=$out/$r
  (cd "$rd" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) \
    >"$rd/dists/stable/main/binary-$ARCH/Packages"
  gzip -9nk "$rd/dists/stable/main/binary-$ARCH/Packages"
  {
    echo "Origin: sgx-quote-helper stand-ins ($r)"
    echo "Label: sgx-quote-helper stand-ins for $r (tests only)"
    echo "Suite: stable"
    echo "Codename: stable"
    echo "Architectures: $ARCH"
    echo "Components: main"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    for sum in MD5Sum:md5sum SHA256:sha256sum; do
      echo "${sum%%:*}:"
      for f in main/binary-$ARCH/Packages main/binary-$ARCH/Packages.gz; do
        printf ' %s %s %s\n' "$("${sum#*:}" "$rd/dists/stable/$f" | cut -d' ' -f1)" \
          "$(stat -c %s "$rd/dists/stable/$f")" "$f"
      done
    done
  } >"$rd/dists/stable/Release"
  uid="sgx-quote-helper stand-in $r repository (throwaway) <noreply@invalid>"
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "$uid" ed25519 sign 1d 2>/dev/null
  gpg --batch --quiet --armor --export "$uid" >"$rd/key.asc"
  gpg --batch --quiet --yes -u "$uid" --clearsign -o "$rd/dists/stable/InRelease" \
    "$rd/dists/stable/Release"
  gpg --batch --quiet --yes -u "$uid" --armor --detach-sign -o "$rd/dists/stable/Release.gpg" \
    "$rd/dists/stable/Release"
done
echo "$out"
