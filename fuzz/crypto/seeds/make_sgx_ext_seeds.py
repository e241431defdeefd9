#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes fuzz_sgx_ext's seed corpus: the DER value of the SGX extension
(OID 1.2.840.113741.1.13.1) of real PCK certificates, as the verifier meets
them.

Sources: the leaf of every pck_chain.pem given on the command line (the test
vectors' PCK certificates), and simulated PCK certificates made by
`sgx-quote collateral export` for each SGX type (Standard, Scalable,
Scalable with integrity: processor vs platform CA, with and without the
platform instance id and configuration) and some TCB settings.

Usage: make_sgx_ext_seeds.py SGX_QUOTE OUT_DIR [pck_chain.pem ...]
"""
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

SGX_EXT = ObjectIdentifier("1.2.840.113741.1.13.1")


def leaf_ext(pem_path):
    certs = x509.load_pem_x509_certificates(open(pem_path, "rb").read())
    for c in certs:
        try:
            return c.extensions.get_extension_for_oid(SGX_EXT).value.value
        except x509.ExtensionNotFound:
            continue
    return None


def main():
    sgx_quote, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, chain in enumerate(sys.argv[3:]):
        ext = leaf_ext(chain)
        if ext is not None:
            name = os.path.basename(os.path.dirname(chain))
            open(os.path.join(out, f"sgx_ext_vector_{name}.der"), "wb").write(ext)
            n += 1
    sims = [
        ("sim_standard", ["--sim-tcb", "sgx-type=0"]),
        ("sim_scalable", ["--sim-tcb", "sgx-type=1"]),
        ("sim_scalable_integrity", ["--sim-tcb", "sgx-type=2"]),
        ("sim_tcb_high", ["--sim-tcb", "tcb=255,255,255,255,255,255,255,255,255,255,255,255,255,"
                                       "255,255,255", "--sim-tcb", "pcesvn=65535"]),
        ("sim_fmspc", ["--sim-tcb", "fmspc=00906ED50000", "--sim-tcb", "pceid=0100"]),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        for name, args in sims:
            coll = os.path.join(tmp, name)
            subprocess.run([sgx_quote, "collateral", "export", "--state-dir", state,
                            "--init-seed", "--instance", name, *args, "-o", coll], check=True)
            ext = leaf_ext(os.path.join(coll, "pck_chain.pem"))
            open(os.path.join(out, f"sgx_ext_{name}.der"), "wb").write(ext)
            n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
