#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent cross-check of the simulated PKI's deterministic signatures.

Usage: kat_rfc6979.py SEED_FILE EXPORT_DIR [INSTANCE]

EXPORT_DIR is the output of `sgx-quote collateral export --seed-file SEED_FILE
--instance INSTANCE`. The script derives the simulated keys from the seed the
way docs/simulation.md describes (HKDF-SHA256, scalar = OS2IP mod (n-1) + 1),
re-signs every certificate's and CRL's TBS bytes and the TCB Info / QE
Identity bodies with Python `cryptography`'s RFC 6979 signer (its bundled
OpenSSL >= 3.2, `deterministic_signing=True`), and checks that each signature
in the export is exactly that one. It prints the values that
tests/sim/test_sim_seed.c pins for seed 00..1f (the root certificate's r||s
and SHA-256). Not run by meson (needs cryptography >= 43); a maintenance tool
for regenerating the known answers when the certificate profile changes on
purpose (which changes every node's trusted root).
"""
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
PREFIX = b"sgx-quote-helper/sim/v1/"


def derive_key(seed, label, instance=None):
    info = PREFIX + label + (b"\0" + instance.encode() if instance is not None else b"")
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=info).derive(seed)
    scalar = int.from_bytes(okm, "big") % (N - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def rfc6979(key, data):
    der = key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_of(der_sig):
    r, s = decode_dss_signature(der_sig)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def pem_certs(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificates(f.read())


def main():
    seed_file, out = sys.argv[1], sys.argv[2]
    instance = sys.argv[3] if len(sys.argv) > 3 else "test-node"
    with open(seed_file, "rb") as f:
        seed = f.read()
    root_key = derive_key(seed, b"root-ca-key")
    ca_key = derive_key(seed, b"platform-ca-key")
    tcb_key = derive_key(seed, b"tcb-signing-key")

    failures = 0

    def check(what, got, want):
        nonlocal failures
        ok = got == want
        failures += not ok
        print(f"{'ok' if ok else 'MISMATCH'}: {what}")

    leaf, ca, root = pem_certs(os.path.join(out, "pck_chain.pem"))
    tcb = pem_certs(os.path.join(out, "tcb_chain.pem"))[0]
    for name, cert, key in (("root", root, root_key), ("PCK CA", ca, root_key),
                            ("TCB signing", tcb, root_key), ("PCK leaf", leaf, ca_key)):
        check(f"{name} certificate signature",
              raw_of(cert.signature), rfc6979(key, cert.tbs_certificate_bytes))
    for name, key in (("root_ca_crl.der", root_key), ("pck_crl.der", ca_key)):
        with open(os.path.join(out, name), "rb") as f:
            crl = x509.load_der_x509_crl(f.read())
        check(f"{name} signature", raw_of(crl.signature), rfc6979(key, crl.tbs_certlist_bytes))
    with open(os.path.join(out, "collateral.json")) as f:
        coll = json.load(f)
    for body, sig in (("tcb_info", "tcb_info_signature"), ("qe_identity", "qe_identity_signature")):
        check(f"{body} signature", bytes.fromhex(coll[sig]),
              rfc6979(tcb_key, coll[body].encode()))

    root_der = root.public_bytes(Encoding.DER)
    print("root r||s   :", raw_of(root.signature).hex())
    print("root sha256 :", hashlib.sha256(root_der).hexdigest())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
