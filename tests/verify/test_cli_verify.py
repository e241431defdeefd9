#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Integration tests of `sgx-quote verify` (issue 3 acceptance).

Drives the real binary: every shared vector from both collateral forms and
over a local PCCS (tests/verify/pccs_server.py on 127.0.0.1), the exit codes
and the --json schema of docs/verify.md, and simulated quotes from
`sgx-quote get --in-process` with `collateral export`, each cross-checked in
the same test with @phala/dcap-qvl (tests/node/qvl-verify.js).

Usage: test_cli_verify.py SGX_QUOTE   (env: SGXQH_VECTORS, SGXQH_NODE_DIR)
"""
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SGX_QUOTE = sys.argv[1]
VECTORS = os.path.join(os.environ.get("SGXQH_VECTORS", ""), "quotes")
if not os.path.isdir(VECTORS):
    # TAP's bail-out: one line that names the missing directory.
    print(f"Bail out! test vectors directory {VECTORS} is missing (tests/vectors; see its README)")
    sys.exit(1)
NODE_DIR = os.environ["SGXQH_NODE_DIR"]
HERE = os.path.dirname(os.path.abspath(__file__))
INTEL_ROOT = os.path.join(VECTORS, "intel-sgx-root-ca.pem")
ACCEPT_ALL = ("UpToDate,SWHardeningNeeded,ConfigurationNeeded,ConfigurationAndSWHardeningNeeded,"
              "OutOfDate,OutOfDateConfigurationNeeded")
SA = ["INTEL-SA-00289", "INTEL-SA-00615"]
CASWHN = "ConfigurationAndSWHardeningNeeded"

# tests/vectors/README.md, with every non-revoked status accepted:
# (vector, exit, status, advisories, failed_check)
TABLE = [
    ("dcapqvl-sgx-v3", 0, CASWHN, SA, None),
    ("dcapqvl-tdx-v4", 0, "UpToDate", [], None),
    ("dcapqvl-tdx-v5-outdated", 6, None, [], "tcb-level"),
    ("intelqvl-sample-sgx-v3-testroot", 0, "UpToDate", [], None),
    ("customroot-dcapqvl-sgx-v3", 0, CASWHN, SA, None),
    ("synth-sgx-v4-customroot", 0, CASWHN, SA, None),
]


def meta(v):
    with open(os.path.join(VECTORS, v, "meta.json")) as f:
        return json.load(f)


def sgxq(*args, check_json=True):
    p = subprocess.run([SGX_QUOTE, *args], capture_output=True, text=True, timeout=60)
    doc = None
    if check_json and "--json" in args and p.stdout.strip():
        doc = json.loads(p.stdout)
    return p.returncode, doc, p.stdout, p.stderr


def verify(quote, *args):
    rc, doc, out, err = sgxq("verify", quote, "--json", *args)
    assert doc is not None, f"no JSON (exit {rc}): {err}"
    return rc, doc


def expect(doc, rc, want_rc, status, advisories, failed, what):
    assert rc == want_rc, f"{what}: exit {rc}, expected {want_rc}: {doc['reason']}"
    assert doc["status"] == status, f"{what}: status {doc['status']} != {status}"
    assert sorted(doc["advisory_ids"]) == sorted(advisories), f"{what}: {doc['advisory_ids']}"
    assert doc["failed_check"] == failed, f"{what}: failed_check {doc['failed_check']}"
    if failed is None:
        assert doc["ok"] is True and doc["verdict"] == "ok"
    else:
        assert doc["ok"] is False and failed in doc["reason"]


SCHEMA_KEYS = ["schema", "verdict", "ok", "failed_check", "reason", "hint", "checked_at",
               "checked_at_iso",
               "quote", "status", "platform_status", "qe_status", "tdx_module_status",
               "advisory_ids", "tcb_date", "platform_tcb_date", "qe_tcb_date",
               "tcb_evaluation_data_number", "platform", "collateral", "checks", "enclave"]
CHECK_NAMES = ["quote-format", "collateral-format", "pck-chain", "crls", "pck-revocation",
               "tcb-info-chain", "tcb-info-signature", "qe-identity-chain", "qe-identity-signature",
               "tcb-info-match", "tdx-module", "qe-report-signature", "qe-report-data",
               "qe-identity", "quote-signature", "tcb-level", "collateral-time", "debug-policy",
               "status-policy"]


def test_vectors_dir_and_json():
    for v, want_rc, status, adv, failed in TABLE:
        d = os.path.join(VECTORS, v)
        now = str(meta(v)["pinned_time"])
        for src in (["--collateral-dir", d], ["--collateral", os.path.join(d, "collateral.json")]):
            rc, doc = verify(os.path.join(d, "quote.bin"), *src, "--root",
                             os.path.join(d, "root.pem"), "--now", now, "--accept", ACCEPT_ALL)
            expect(doc, rc, want_rc, status, adv, failed, f"{v} {src[0]}")
            assert list(doc.keys()) == SCHEMA_KEYS, list(doc.keys())
            assert doc["schema"] == "sgx-quote-verify/1"
            assert [c["name"] for c in doc["checks"]] == CHECK_NAMES
            assert all(list(c.keys()) == ["name", "outcome", "detail", "hint"]
                       for c in doc["checks"])
            # a hint only where something failed
            assert all(c["hint"] == "" for c in doc["checks"] if c["outcome"] != "fail")
            assert (doc["hint"] == "") == (failed is None), doc["hint"]
            assert doc["checked_at"] == int(now)
    # tdx-v5: the README's words
    rc, doc = verify(os.path.join(VECTORS, "dcapqvl-tdx-v5-outdated", "quote.bin"),
                     "--collateral-dir", os.path.join(VECTORS, "dcapqvl-tdx-v5-outdated"),
                     "--now", str(meta("dcapqvl-tdx-v5-outdated")["pinned_time"]))
    assert rc == 6 and doc["verdict"] == "tcb-not-supported" and "TCB not supported" in doc["reason"]


def test_default_policy_and_builtin_root():
    v = "dcapqvl-sgx-v3"
    d = os.path.join(VECTORS, v)
    now = str(meta(v)["pinned_time"])
    # no --root: the built-in Intel root; default policy accepts only UpToDate
    rc, doc = verify(os.path.join(d, "quote.bin"), "--collateral-dir", d, "--now", now)
    expect(doc, rc, 4, CASWHN, SA, "status-policy", "default policy")
    assert doc["verdict"] == "status-not-accepted"
    # the fix, and how to widen the policy instead
    assert "--accept UpToDate," + CASWHN in doc["hint"], doc["hint"]
    assert doc["checks"][CHECK_NAMES.index("status-policy")]["hint"] == doc["hint"]
    rc, doc = verify(os.path.join(d, "quote.bin"), "--collateral-dir", d, "--now", now,
                     "--accept", "UpToDate," + CASWHN)
    expect(doc, rc, 0, CASWHN, SA, None, "accept")
    assert doc["tcb_date"] is not None and doc["tcb_evaluation_data_number"] == 17
    assert doc["platform"]["fmspc"] == "00a067110000"
    e = doc["enclave"]
    assert e["type"] == "sgx-enclave" and e["report_data"].startswith("48656c6c6f2c20776f726c6421")
    assert e["debug"] is False and len(e["mrenclave"]) == 64 and len(e["mrsigner"]) == 64
    # TDX v4 with the built-in root: UpToDate, exit 0
    v = "dcapqvl-tdx-v4"
    d = os.path.join(VECTORS, v)
    rc, doc = verify(os.path.join(d, "quote.bin"), "--collateral-dir", d,
                     "--now", str(meta(v)["pinned_time"]))
    expect(doc, rc, 0, "UpToDate", [], None, "tdx default")
    assert doc["enclave"]["type"] == "td" and len(doc["enclave"]["rtmr"]) == 4


def test_human_output():
    v = "dcapqvl-sgx-v3"
    d = os.path.join(VECTORS, v)
    rc, _, out, _ = sgxq("verify", os.path.join(d, "quote.bin"), "--collateral-dir", d, "--now",
                         str(meta(v)["pinned_time"]), "--accept", CASWHN)
    assert rc == 0, out
    assert out.startswith("VERIFIED: " + CASWHN), out
    for needle in ["INTEL-SA-00289, INTEL-SA-00615", "MRENCLAVE", "MRSIGNER", "ISVPRODID",
                   "ISVSVN", "REPORTDATA", "pass     quote-signature", "TCB date"]:
        assert needle in out, needle


def test_rejections_and_exit_codes():
    tmp = tempfile.mkdtemp()
    try:
        v = "customroot-dcapqvl-sgx-v3"
        d = os.path.join(VECTORS, v)
        q = os.path.join(d, "quote.bin")
        now = meta(v)["pinned_time"]
        # chained to a different root than the trusted one: by name, exit 6
        rc, doc = verify(q, "--collateral-dir", d, "--now", str(now), "--accept", ACCEPT_ALL)
        assert rc == 6 and doc["failed_check"] == "pck-chain", doc["reason"]
        assert "Test SGX Root CA" in doc["reason"] and "Intel SGX Root CA" in doc["reason"]
        assert "if you trust the root 'Test SGX Root CA'" in doc["hint"], doc["hint"]
        assert "--root FILE" in doc["hint"]
        # the human output shows the hint under the verdict
        rc, _, out, _ = sgxq("verify", q, "--collateral-dir", d, "--now", str(now))
        lines = out.splitlines()
        assert rc == 6 and lines[0].startswith("REJECTED (invalid): pck-chain: "), out
        assert lines[1].startswith("  hint        if you trust the root"), out
        rc, doc = verify(q, "--collateral-dir", d, "--now", str(now), "--root", INTEL_ROOT)
        assert rc == 6 and doc["failed_check"] == "pck-chain"
        # the revoking PCK CRL: exit 7
        neg = os.path.join(tmp, "neg")
        shutil.copytree(d, neg)
        os.chmod(neg, 0o755)
        os.chmod(os.path.join(neg, "pck_crl.der"), 0o644)
        shutil.copyfile(os.path.join(d, "neg_pck_crl_revoking_pck.der"),
                        os.path.join(neg, "pck_crl.der"))
        rc, doc = verify(q, "--collateral-dir", neg, "--root", os.path.join(d, "root.pem"),
                         "--now", str(now), "--accept", ACCEPT_ALL)
        assert rc == 7 and doc["verdict"] == "revoked" and doc["failed_check"] == "pck-revocation"
        # expired: item and time named, exit 5
        with open(os.path.join(d, "tcb_info.json")) as f:
            nxt = json.load(f)["tcbInfo"]["nextUpdate"]
        nxt_unix = calendar.timegm(time.strptime(nxt, "%Y-%m-%dT%H:%M:%SZ"))
        rc, doc = verify(q, "--collateral-dir", d, "--root", os.path.join(d, "root.pem"),
                         "--now", str(nxt_unix + 1), "--accept", ACCEPT_ALL)
        assert rc == 5 and doc["verdict"] == "collateral-expired", doc["reason"]
        items = {i["item"]: i for i in doc["collateral"]["time_issues"]}
        assert items["tcbInfo"]["time"] == nxt and items["tcbInfo"]["problem"] == "expired"
        assert f"tcbInfo expired at {nxt}" in doc["reason"]
        assert "fetch fresh collateral" in doc["hint"] and "clock" not in doc["hint"], doc["hint"]
        # not yet valid: the clock
        with open(os.path.join(d, "tcb_info.json")) as f:
            iss = json.load(f)["tcbInfo"]["issueDate"]
        iss_unix = calendar.timegm(time.strptime(iss, "%Y-%m-%dT%H:%M:%SZ"))
        rc, doc = verify(q, "--collateral-dir", d, "--root", os.path.join(d, "root.pem"),
                         "--now", str(iss_unix - 1), "--accept", ACCEPT_ALL)
        assert rc == 5 and f"tcbInfo is not valid before {iss}" in doc["reason"], doc["reason"]
        assert "check the clock" in doc["hint"], doc["hint"]
        # a corrupted quote: exit 6 naming the check
        with open(q, "rb") as f:
            b = bytearray(f.read())
        b[436] ^= 1
        bad = os.path.join(tmp, "bad.bin")
        with open(bad, "wb") as f:
            f.write(b)
        rc, doc = verify(bad, "--collateral-dir", d, "--root", os.path.join(d, "root.pem"),
                         "--now", str(now), "--accept", ACCEPT_ALL)
        assert rc == 6 and doc["failed_check"] == "quote-signature"
        # a quote that does not parse: the parser's error name and a pointer to inspect
        with open(bad, "wb") as f:
            f.write(bytes(b[:100]))
        rc, doc = verify(bad, "--collateral-dir", d, "--root", os.path.join(d, "root.pem"),
                         "--now", str(now))
        assert rc == 6 and doc["failed_check"] == "quote-format", doc["reason"]
        assert doc["reason"].endswith("(QUOTE_E_TRUNCATED)"), doc["reason"]
        assert "sgx-quote inspect QUOTE" in doc["hint"], doc["hint"]
        assert doc["quote"]["version"] == 0
        # usage and I/O errors
        assert sgxq("verify")[0] == 2
        assert sgxq("verify", q, "--collateral-dir", d, "--accept", "Revoked")[0] == 2
        assert sgxq("verify", q, "--collateral-dir", d, "--collateral", "x.json")[0] == 2
        assert sgxq("verify", q, "--collateral-dir", d, "--now", "soon")[0] == 2
        assert sgxq("verify", os.path.join(tmp, "missing.bin"), "--collateral-dir", d)[0] == 3
        assert sgxq("verify", q, "--collateral-dir", os.path.join(tmp, "nodir"))[0] == 3
        assert sgxq("verify", q, "--collateral-dir", d, "--root", os.path.join(d, "tcb_chain.pem"))[0] == 2
    finally:
        shutil.rmtree(tmp)


def with_cert_data(quote, ctype, data):
    """The v3 quote with other certification data (quote-format §1.4: QE auth
    size u16 @1012, then auth data, cert type u16, cert size u32, data;
    signature_data_len @432 = 584 + A + C). Certification data is outside
    every signature (§1.6), so nothing needs re-signing."""
    a = int.from_bytes(quote[1012:1014], "little")
    off = 1014 + a
    out = bytearray(quote[:off])
    out[432:436] = (584 + a + len(data)).to_bytes(4, "little")
    out += ctype.to_bytes(2, "little") + len(data).to_bytes(4, "little") + data
    return bytes(out)


def test_cert_data_types_with_pck_chain():
    v = "intelqvl-sample-sgx-v3-testroot"
    d = os.path.join(VECTORS, v)
    now = str(meta(v)["pinned_time"])
    tmp = tempfile.mkdtemp()
    try:
        with open(os.path.join(d, "quote.bin"), "rb") as f:
            orig = f.read()
        a = int.from_bytes(orig[1012:1014], "little")
        t1 = orig[1014 + a + 6:]
        assert int.from_bytes(orig[1014 + a:1016 + a], "little") == 1 and len(t1) == 34
        # collateral without a PCK chain, so --pck-chain is what supplies it
        with open(os.path.join(d, "collateral.json")) as f:
            coll = json.load(f)
        del coll["pck_certificate_chain"]
        coll_path = os.path.join(tmp, "collateral.json")
        with open(coll_path, "w") as f:
            json.dump(coll, f)
        chain = os.path.join(d, "pck_chain.pem")
        with open(chain) as f:
            pems = ["-----BEGIN CERTIFICATE-----" + p.split("-----END CERTIFICATE-----")[0] +
                    "-----END CERTIFICATE-----\n"
                    for p in f.read().split("-----BEGIN CERTIFICATE-----")[1:]]
        leaf = [p for p in pems if subprocess.run(
            ["openssl", "x509", "-noout", "-subject"], input=p, capture_output=True, text=True,
            check=True).stdout.find("SGX PCK Certificate") >= 0]
        assert len(leaf) == 1
        # types 2 and 3 (§1.5): RSA-OAEP(PPID) 256/384 ‖ CPUSVN ‖ PCESVN ‖ PCEID = 276/404
        cases = [(ctype, bytes((0x5A + i) & 0xFF for i in rsa) + t1[16:34] + b"\0\0", total)
                 for ctype, rsa, total in [(2, range(256), 276), (3, range(384), 404)]]
        cases.append((4, leaf[0].encode(), None))
        for ctype, data, total in cases:
            if total is not None:
                assert len(data) == total
            q = os.path.join(tmp, f"q{ctype}.bin")
            with open(q, "wb") as f:
                f.write(with_cert_data(orig, ctype, data))
            rc, doc = verify(q, "--collateral", coll_path, "--pck-chain", chain, "--root",
                             os.path.join(d, "root.pem"), "--now", now)
            expect(doc, rc, 0, "UpToDate", [], None, f"type {ctype}")
            assert doc["quote"]["cert_data_type"] == ctype
            # without the chain: named, with the fix
            rc, doc = verify(q, "--collateral", coll_path, "--root", os.path.join(d, "root.pem"),
                             "--now", now)
            assert rc == 6 and doc["failed_check"] == "collateral-format", doc["reason"]
            assert "--pck-chain FILE" in doc["hint"], doc["hint"]
        # type 3 through the PCCS path too (FMSPC from --pck-chain)
        with Pccs(d) as srv:
            rc, doc = verify(os.path.join(tmp, "q3.bin"), "--pccs-url", srv.url, "--pck-chain",
                             chain, "--root", os.path.join(d, "root.pem"), "--now", now)
        expect(doc, rc, 0, "UpToDate", [], None, "type 3 via PCCS")
        # type 4 holding another certificate than the supplied leaf
        other = [p for p in pems if p != leaf[0]][0]
        q = os.path.join(tmp, "q4-other.bin")
        with open(q, "wb") as f:
            f.write(with_cert_data(orig, 4, other.encode()))
        rc, doc = verify(q, "--collateral", coll_path, "--pck-chain", chain, "--root",
                         os.path.join(d, "root.pem"), "--now", now)
        assert rc == 6 and doc["failed_check"] == "pck-chain", doc["reason"]
        assert "is not the supplied PCK chain's" in doc["reason"], doc["reason"]
    finally:
        shutil.rmtree(tmp)


class Pccs:
    def __init__(self, d, *extra):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "pccs_server.py"), d, *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline()
        assert line.startswith("PORT "), line
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.terminate()
        self.p.wait(timeout=10)


def test_pccs_vectors():
    for v, want_rc, status, adv, failed in TABLE:
        d = os.path.join(VECTORS, v)
        now = str(meta(v)["pinned_time"])
        extra = ["--pck-chain", os.path.join(d, "pck_chain.pem")] if meta(v)["cert_type_in_quote"] != 5 else []
        for hdr in ([], ["--v3-headers"]):
            with Pccs(d, *hdr) as srv:
                rc, doc = verify(os.path.join(d, "quote.bin"), "--pccs-url", srv.url + "/", *extra,
                                 "--root", os.path.join(d, "root.pem"), "--now", now,
                                 "--accept", ACCEPT_ALL)
            expect(doc, rc, want_rc, status, adv, failed, f"{v} via PCCS {hdr}")
    # a PCCS that does not have the item: the operation failed (exit 1), named
    d = os.path.join(VECTORS, "dcapqvl-sgx-v3")
    with Pccs(os.path.join(VECTORS, "dcapqvl-tdx-v4")) as srv:
        rc, _, _, err = sgxq("verify", os.path.join(d, "quote.bin"), "--pccs-url", srv.url)
    assert rc == 1 and "HTTP status 404" in err and "fmspc=00A067110000" in err, err


def node_verdict(quote, coll_dir, now):
    p = subprocess.run(["node", os.path.join(NODE_DIR, "qvl-verify.js"), quote,
                        os.path.join(coll_dir, "collateral.json"), os.path.join(coll_dir, "root.pem"),
                        str(now)], capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)


def test_simulated_quotes():
    tmp = tempfile.mkdtemp()
    try:
        now = int(time.time())
        state = os.path.join(tmp, "state")
        for st in ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "OutOfDate", "Revoked"]:
            sim = ["--in-process", "--state-dir", state, "--sim-tcb-status", st, "--now", str(now)]
            q = os.path.join(tmp, f"q-{st}.bin")
            coll = os.path.join(tmp, f"coll-{st}")
            rc, _, out, err = sgxq("get", *sim, "--sim-enclave", "-o", q)
            assert rc == 0, err
            rc, _, out, err = sgxq("collateral", "export", *sim[1:], "-o", coll)
            assert rc == 0, err
            root = os.path.join(coll, "root.pem")
            rc, doc = verify(q, "--collateral-dir", coll, "--root", root, "--now", str(now),
                             "--accept", ACCEPT_ALL)
            assert doc["status"] == st, f"{st}: got {doc['status']}: {doc['reason']}"
            if st == "Revoked":
                assert rc == 7 and doc["verdict"] == "revoked" and doc["failed_check"] == "tcb-level"
            else:
                assert rc == 0 and doc["ok"], doc["reason"]
            # only UpToDate passes the default policy
            rc_default, _ = verify(q, "--collateral-dir", coll, "--root", root, "--now", str(now))
            assert rc_default == {"UpToDate": 0, "Revoked": 7}.get(st, 4), (st, rc_default)
            # the same collateral through a PCCS
            with Pccs(coll) as srv:
                rc2, doc2 = verify(q, "--pccs-url", srv.url, "--root", root, "--now", str(now),
                                   "--accept", ACCEPT_ALL)
            assert (rc2, doc2["status"], doc2["advisory_ids"]) == (rc, doc["status"], doc["advisory_ids"])
            # and the independent verifier agrees
            n = node_verdict(q, coll, now)
            if doc["ok"]:
                assert n["ok"], f"{st}: dcap-qvl rejected: {n.get('error')}"
                assert n["status"] == doc["status"], (st, n)
                assert sorted(n["advisory_ids"]) == sorted(doc["advisory_ids"]), (st, n)
            else:
                assert not n["ok"] and "Revoked" in n["error"], (st, n)
        # the exported root is not Intel's: the built-in anchor rejects it by name
        rc, doc = verify(os.path.join(tmp, "q-UpToDate.bin"), "--collateral-dir",
                         os.path.join(tmp, "coll-UpToDate"), "--now", str(now))
        assert rc == 6 and doc["failed_check"] == "pck-chain" and "Simulated" in doc["reason"]
    finally:
        shutil.rmtree(tmp)


def test_vectors_agree_with_dcap_qvl():
    # the vectors dcap-qvl JS can read (TCB info v3, SGX v3 / TDX)
    for v, want_rc, status, adv, failed in TABLE:
        m = meta(v)
        if m["tcb_info_version"] != 3 or (m["tee_type"] == "0x0" and m["quote_version"] != 3):
            continue
        d = os.path.join(VECTORS, v)
        n = node_verdict(os.path.join(d, "quote.bin"), d, m["pinned_time"])
        if failed is None:
            assert n["ok"] and n["status"] == status and sorted(n["advisory_ids"]) == sorted(adv), (v, n)
        else:
            assert not n["ok"] and "No matching TCB level" in n["error"], (v, n)


def main():
    tests = [(k, f) for k, f in globals().items() if k.startswith("test_") and callable(f)]
    failed = 0
    print(f"1..{len(tests)}")
    for i, (name, fn) in enumerate(tests, 1):
        try:
            fn()
            print(f"ok {i} - {name}")
        except Exception as e:  # report and go on
            failed += 1
            print(f"not ok {i} - {name}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
