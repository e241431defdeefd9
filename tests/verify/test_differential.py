#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Differential test: never more lenient than QVL (issue 11, docs/verify.md
"Differences from QVL and dcap-qvl").

Mutates the vectors the way a careful user would (one bit, one byte,
truncation, swapped / dropped / duplicated certificates, collateral fields
changed and re-signed with the test keys of the custom-root vectors) and
verifies every mutant with our verifier (tests/verify/diff_verify.c: the
`sgx-quote verify --json` document, many quotes in one process) and with @phala/dcap-qvl
(tests/node/qvl-batch.js, ONE node process for all mutants), both at the
vector's pinned time with the same files and root. A mutant that dcap-qvl
rejects and we accept, or that both accept with different TCB statuses,
fails the test unless one row of GAPS (dcap-qvl's own known gaps, each
saying which direction it excuses) covers it. Mutants we reject and dcap-qvl
accepts are counted per failing check (we are allowed to be stricter).

Usage: test_differential.py DIFF_VERIFY
Env: SGXQH_VECTORS, SGXQH_NODE_DIR; SGXQH_DIFF_MUTANTS (default 240, the
number of mutants over all vectors; thousands for a long run),
SGXQH_DIFF_SEED (default 11), SGXQH_DIFF_KEEP=DIR keeps the failing mutants.
"""
import base64
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

DIFF_VERIFY = sys.argv[1]   # tests/verify/diff_verify (sgx-quote verify --json, batched)
VECTORS = os.path.join(os.environ["SGXQH_VECTORS"], "quotes")
NODE_DIR = os.environ["SGXQH_NODE_DIR"]
MUTANTS = int(os.environ.get("SGXQH_DIFF_MUTANTS", "240"))
SEED = int(os.environ.get("SGXQH_DIFF_SEED", "11"))
KEEP = os.environ.get("SGXQH_DIFF_KEEP")
VECTOR_NAMES = ["dcapqvl-sgx-v3", "dcapqvl-tdx-v4", "dcapqvl-tdx-v5-outdated",
                "intelqvl-sample-sgx-v3-testroot", "customroot-dcapqvl-sgx-v3",
                "synth-sgx-v4-customroot"]
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----")
CHAIN_FIELDS = ["tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain"]
HEX_FIELDS = ["root_ca_crl", "pck_crl", "tcb_info_signature", "qe_identity_signature"]
BODY_FIELDS = ["tcb_info", "qe_identity"]


# ---- dcap-qvl's own gaps (docs/verify.md keeps the same table) ----------
# Each row: name, the direction it excuses, and when it applies. Direction
# "qvl-rejects" excuses "dcap-qvl rejects, we accept"; "status" excuses
# "both accept, statuses differ". "dcap-qvl accepts, we reject" never fails.
def _sgx_v4_v5(m, ours):
    q = ours.get("quote") or {}
    return q.get("tee") == "SGX" and (q.get("version") or 0) >= 4


def _tcb_info_v2(m, ours):
    try:
        return json.loads(m.coll["tcb_info"]).get("version") == 2
    except (ValueError, AttributeError):
        return False


def _debug(m, ours):
    return bool((ours.get("enclave") or {}).get("debug"))


def _tdx(m, ours):
    return (ours.get("quote") or {}).get("tee") == "TDX"


GAPS = [
    ("sgx-v4-v5", "qvl-rejects", "dcap-qvl refuses SGX quotes of version 4 and 5", _sgx_v4_v5),
    ("tcb-info-v2", "qvl-rejects", "dcap-qvl refuses TCB info version 2", _tcb_info_v2),
    ("debug-enclave", "qvl-rejects", "dcap-qvl refuses debug enclaves (we do too unless "
     "--allow-debug, which this test does not pass)", _debug),
    ("chain-order", "qvl-rejects", "dcap-qvl needs each chain in leaf-to-root order; QVL "
     "takes any order (the same certificates, reordered)", lambda m, o: m.reordered),
    ("tdx-module-identities", "status", "dcap-qvl ignores TDX module identities, so its "
     "TDX status can differ", _tdx),
    # Direction "dcap-qvl accepts, we reject" (never a failure, listed for the report):
    # dcap-qvl ignores CRL dates and CRL signatures, TDX module identities, the
    # outer signatureAlgorithm and signature_data_len consistency, and skips
    # text it cannot read between PEM blocks.
]


# Both accept with different statuses: a status further down this list is
# the stricter verdict (no policy accepts it that refuses the other), e.g.
# QVL's convergence of ConfigurationAndSWHardeningNeeded with an out-of-date
# QE into OutOfDateConfigurationNeeded, where dcap-qvl says OutOfDate.
SEVERITY = {s: i for i, s in enumerate([
    "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
    "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked"])}


# ---- mutants ---------------------------------------------------------------
class Mutant:
    def __init__(self, vector, kind, desc, quote, coll, reordered=False):
        self.vector, self.kind, self.desc = vector, kind, desc
        self.quote, self.coll, self.reordered = quote, coll, reordered


class Vector:
    def __init__(self, name):
        d = os.path.join(VECTORS, name)
        self.name, self.dir = name, d
        with open(os.path.join(d, "quote.bin"), "rb") as f:
            self.quote = f.read()
        with open(os.path.join(d, "collateral.json")) as f:
            self.coll = json.load(f)
        with open(os.path.join(d, "meta.json")) as f:
            self.now = json.load(f)["pinned_time"]
        self.root = os.path.join(d, "root.pem")
        key = os.path.join(d, "keys", "tcb_signer.key.pem")
        self.signer = None
        if os.path.exists(key):
            with open(key, "rb") as f:
                self.signer = serialization.load_pem_private_key(f.read(), password=None)
        text = self.quote.decode("latin1")
        self.pem_spans = [(m.start(), m.end()) for m in PEM_RE.finditer(text)]


def quote_offset(rng, v):
    """A third uniform, a third in the PEM chain, a third in its root (last)
    block: class 1 of issue 11 lives in the chain's root (quote-root-der
    damages the root's DER itself)."""
    r = rng.random()
    if v.pem_spans and r < 1 / 3:
        s, e = v.pem_spans[-1]
        return rng.randrange(s, e)
    if v.pem_spans and r < 2 / 3:
        return rng.randrange(v.pem_spans[0][0], v.pem_spans[-1][1])
    return rng.randrange(len(v.quote))


def flip_der_in_pem(rng, block):
    """One bit of the DER inside one PEM block, re-encoded with the block's
    own line layout (same length, so quote sizes stay right): the root copy
    damaged in its name, key, validity or signature rather than in its text."""
    head, tail = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    body = block[len(head):len(block) - len(tail)]
    lines = body.split("\n")
    der = bytearray(base64.b64decode("".join(lines)))
    off, bit = rng.randrange(len(der)), rng.randrange(8)
    der[off] ^= 1 << bit
    flat = base64.b64encode(bytes(der)).decode()
    out, pos = [], 0
    for ln in lines:
        out.append(flat[pos:pos + len(ln)])
        pos += len(ln)
    return head + "\n".join(out) + tail, off, bit


def mutate_quote(rng, v, kind):
    q = bytearray(v.quote)
    if kind == "quote-bit":
        off, bit = quote_offset(rng, v), rng.randrange(8)
        q[off] ^= 1 << bit
        return Mutant(v.name, kind, f"quote byte {off} bit {bit}", bytes(q), v.coll)
    if kind == "quote-byte":
        off, val = quote_offset(rng, v), rng.randrange(256)
        if q[off] == val:
            val ^= 0xFF
        q[off] = val
        return Mutant(v.name, kind, f"quote byte {off} := {val:#04x}", bytes(q), v.coll)
    if kind == "quote-root-der" and v.pem_spans:
        s, e = v.pem_spans[-1]
        block, off, bit = flip_der_in_pem(rng, q[s:e].decode("latin1"))
        q[s:e] = block.encode("latin1")
        return Mutant(v.name, kind, f"quote chain's last certificate, DER byte {off} bit {bit}",
                      bytes(q), v.coll)
    if kind == "quote-truncate":
        n = rng.randrange(len(q))
        return Mutant(v.name, kind, f"quote truncated to {n} bytes", bytes(q[:n]), v.coll)
    # quote-swap: two PEM blocks of the quote's chain exchanged (sizes kept
    # when equal; else the whole block list is rotated within its span)
    spans = v.pem_spans
    if len(spans) < 2:
        return mutate_quote(rng, v, "quote-bit")
    blocks = [bytes(q[s:e]) for s, e in spans]
    gaps = [bytes(q[spans[i][1]:spans[i + 1][0]]) for i in range(len(spans) - 1)]
    i, j = rng.sample(range(len(blocks)), 2)
    blocks[i], blocks[j] = blocks[j], blocks[i]
    body = blocks[0] + b"".join(g + b for g, b in zip(gaps, blocks[1:]))
    q[spans[0][0]:spans[-1][1]] = body
    return Mutant(v.name, kind, f"quote chain blocks {i + 1} and {j + 1} swapped", bytes(q),
                  v.coll, reordered=True)


def flip_text(rng, s, span=None):
    lo, hi = span if span else (0, len(s))
    off = rng.randrange(lo, hi)
    c = chr(ord(s[off]) ^ (1 << rng.randrange(7)))   # stays ASCII: both read UTF-8 alike
    return s[:off] + c + s[off + 1:], off


def mutate_collateral(rng, v, kind):
    c = dict(v.coll)
    if kind == "coll-bit":
        field = rng.choice(CHAIN_FIELDS + HEX_FIELDS + BODY_FIELDS)
        if field in HEX_FIELDS:
            b = bytearray(bytes.fromhex(c[field]))
            off, bit = rng.randrange(len(b)), rng.randrange(8)
            b[off] ^= 1 << bit
            c[field] = b.hex()
            return Mutant(v.name, kind, f"{field} byte {off} bit {bit}", v.quote, c)
        span = None
        if field in CHAIN_FIELDS and rng.random() < 0.5:
            blocks = [(m.start(), m.end()) for m in PEM_RE.finditer(c[field])]
            span = blocks[-1] if blocks else None
        c[field], off = flip_text(rng, c[field], span)
        return Mutant(v.name, kind, f"{field} char {off} bit-flipped", v.quote, c)
    if kind == "coll-root-der":
        field = rng.choice(CHAIN_FIELDS)
        blocks = PEM_RE.findall(c[field])
        i = rng.randrange(len(blocks))
        new, off, bit = flip_der_in_pem(rng, blocks[i])
        c[field] = c[field].replace(blocks[i], new, 1)
        return Mutant(v.name, kind, f"{field} certificate {i + 1}, DER byte {off} bit {bit}",
                      v.quote, c)
    if kind == "coll-byte":
        field = rng.choice(CHAIN_FIELDS + BODY_FIELDS)
        s = c[field]
        off = rng.randrange(len(s))
        ch = chr(rng.randrange(0x20, 0x7F))
        c[field] = s[:off] + ch + s[off + 1:]
        return Mutant(v.name, kind, f"{field} char {off} := {ch!r}", v.quote, c)
    # coll-swap: reorder, drop, duplicate, or replace a certificate of a chain
    field = rng.choice(CHAIN_FIELDS)
    src = c[field]
    blocks = PEM_RE.findall(src)
    op = rng.choice(["reorder", "drop", "duplicate", "replace"])
    reordered = False
    if op == "reorder" and len(blocks) > 1:
        i, j = rng.sample(range(len(blocks)), 2)
        blocks[i], blocks[j] = blocks[j], blocks[i]
        reordered = True
        what = f"blocks {i + 1} and {j + 1} swapped"
    elif op == "drop" and blocks:
        i = rng.randrange(len(blocks))
        del blocks[i]
        what = f"block {i + 1} dropped"
    elif op == "duplicate" and blocks:
        i = rng.randrange(len(blocks))
        blocks.insert(i, blocks[i])
        what = f"block {i + 1} duplicated"
    else:
        other = rng.choice([f for f in CHAIN_FIELDS if f != field])
        pool = PEM_RE.findall(c[other]) + PEM_RE.findall(v.quote.decode("latin1"))
        i = rng.randrange(len(blocks))
        blocks[i] = rng.choice(pool)
        what = f"block {i + 1} replaced by a certificate of another chain"
    c[field] = "\n".join(blocks) + "\n"
    return Mutant(v.name, kind, f"{field}: {what}", v.quote, c, reordered=reordered)


def sign_body(key, body):
    der = key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()


def _edit_json(rng, obj):
    """Change one scalar leaf of a JSON object in place; returns its path."""
    leaves = []

    def walk(o, path):
        if isinstance(o, dict):
            for k, val in o.items():
                walk(val, path + [k]) if isinstance(val, (dict, list)) else leaves.append((o, k, path + [k]))
        elif isinstance(o, list):
            for i, val in enumerate(o):
                walk(val, path + [i]) if isinstance(val, (dict, list)) else leaves.append((o, i, path + [i]))
    walk(obj, [])
    parent, key, path = rng.choice(leaves)
    val = parent[key]
    if isinstance(val, bool):
        parent[key] = not val
    elif isinstance(val, int):
        parent[key] = rng.choice([val + 1, val - 1, 0, val ^ 0x80, val + 16])
    elif isinstance(val, str) and re.fullmatch(r"[0-9A-Fa-f]+", val) and len(val) % 2 == 0:
        b = bytearray(bytes.fromhex(val))
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        parent[key] = b.hex().upper() if val.isupper() else b.hex()
    elif isinstance(val, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", val):
        year = int(val[:4]) + rng.choice([-1, 1])
        parent[key] = f"{year:04d}" + val[4:]
    elif isinstance(val, str):
        parent[key] = rng.choice(["UpToDate", "OutOfDate", "Revoked", "SWHardeningNeeded",
                                  "ConfigurationNeeded", "QE", "TD_QE", "SGX", "TDX", val + "x"])
    return "/".join(str(p) for p in path)


def mutate_resigned(rng, v):
    c = dict(v.coll)
    field = rng.choice(BODY_FIELDS)
    obj = json.loads(c[field])
    path = _edit_json(rng, obj)
    body = json.dumps(obj, separators=(",", ":"))
    c[field] = body
    c[field + "_signature"] = sign_body(v.signer, body)
    return Mutant(v.name, "resigned", f"{field}: {path} changed, re-signed with the test "
                  "TCB signing key", v.quote, c)


KINDS = ["quote-bit", "quote-byte", "quote-root-der", "quote-truncate", "quote-swap",
         "coll-bit", "coll-byte", "coll-root-der", "coll-swap", "resigned"]


# Most mutants go to the vectors dcap-qvl can judge (on the others it rejects
# the intact vector, so a gap row excuses whatever we accept).
WEIGHTS = {"dcapqvl-sgx-v3": 3, "dcapqvl-tdx-v4": 3, "customroot-dcapqvl-sgx-v3": 4}


def make_mutants(vectors):
    rng = random.Random(SEED)
    order = [v for v in vectors for _ in range(WEIGHTS.get(v.name, 1))]
    out = []
    for n in range(MUTANTS):
        v = order[n % len(order)]
        # re-signed collateral needs the vector's TCB signing key; where there
        # is one, a quarter of its mutants are re-signed
        if v.signer is not None and rng.random() < 0.25:
            kind = "resigned"
        else:
            kind = rng.choice(KINDS[:-1])
        if kind == "resigned":
            out.append(mutate_resigned(rng, v))
        elif kind.startswith("quote"):
            out.append(mutate_quote(rng, v, kind))
        else:
            out.append(mutate_collateral(rng, v, kind))
    return out


# ---- running both verifiers ---------------------------------------------
def write_case(tmp, idx, m):
    qp = os.path.join(tmp, f"{idx}.bin")
    cp = os.path.join(tmp, f"{idx}.json")
    with open(qp, "wb") as f:
        f.write(m.quote)
    with open(cp, "w") as f:
        json.dump(m.coll, f)
    return qp, cp


def run_all(cases):
    """cases: list of (id, quote file, collateral file, root, now). Our
    verifier (DIFF_VERIFY, one process) and dcap-qvl (one node process) run
    side by side, each fed from its own thread."""
    ours = subprocess.Popen([DIFF_VERIFY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    node = subprocess.Popen(["node", os.path.join(NODE_DIR, "qvl-batch.js")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mine_jobs = "".join(f"{q}\t{c}\t{r}\t{n}\n" for _, q, c, r, n in cases)
    node_jobs = "".join(json.dumps({"id": i, "quote": q, "collateral": c, "root": r, "now": n})
                        + "\n" for i, q, c, r, n in cases)
    feeders = [threading.Thread(target=lambda p=p, j=j: (p.stdin.write(j), p.stdin.close()))
               for p, j in ((ours, mine_jobs), (node, node_jobs))]
    for f in feeders:
        f.start()
    answers = {}
    readers = [threading.Thread(target=lambda p=p: answers.__setitem__(p.pid, p.stdout.readlines()))
               for p in (ours, node)]
    for t in readers:
        t.start()
    for t in feeders + readers:
        t.join()
    mine_lines, node_lines = answers[ours.pid], answers[node.pid]
    if ours.wait() != 0 or len(mine_lines) != len(cases):
        raise RuntimeError(f"diff_verify exited {ours.returncode} after {len(mine_lines)} of "
                           f"{len(cases)} answers")
    if node.wait() != 0 or len(node_lines) != len(cases):
        raise RuntimeError(f"qvl-batch.js exited {node.returncode} after {len(node_lines)} of "
                           f"{len(cases)} answers")
    mine = {case[0]: json.loads(line) for case, line in zip(cases, mine_lines)}
    theirs = {}
    for line in node_lines:
        d = json.loads(line)
        theirs[d["id"]] = d
    return mine, theirs


def excuse(direction, m, o):
    for name, d, _, applies in GAPS:
        if d == direction and applies(m, o):
            return name
    return None


def main():
    node_mod = os.path.join(NODE_DIR, "node_modules", "@phala", "dcap-qvl")
    if shutil.which("node") is None or not os.path.isdir(node_mod):
        print("1..1\nnot ok 1 - node or @phala/dcap-qvl missing: run scripts/install-deps.sh "
              "check")
        return 1
    vectors = [Vector(n) for n in VECTOR_NAMES]
    mutants = make_mutants(vectors)
    by_name = {v.name: v for v in vectors}
    tmp = tempfile.mkdtemp(prefix="sgxqh-i11-diff-")
    try:
        cases = []
        for idx, v in enumerate(vectors):   # the intact vectors first: the baseline
            cases.append((f"base-{idx}",) + write_case(tmp, f"base-{idx}",
                                                        Mutant(v.name, "intact", "intact",
                                                               v.quote, v.coll)) + (v.root, v.now))
        for idx, m in enumerate(mutants):
            v = by_name[m.vector]
            cases.append((idx,) + write_case(tmp, idx, m) + (v.root, v.now))
        mine, theirs = run_all(cases)
        return report(vectors, mutants, mine, theirs, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(vectors, mutants, mine, theirs, tmp):
    tests = []   # (ok, title, diagnostics)
    # the baseline: the intact vectors, as tests/vectors/README.md expects
    for idx, v in enumerate(vectors):
        o, t = mine[f"base-{idx}"], theirs[f"base-{idx}"]
        m = Mutant(v.name, "intact", "intact", v.quote, v.coll)
        agree = o["ok"] == t["ok"] and (not o["ok"] or o.get("status") == t.get("status"))
        why = None if agree else excuse("qvl-rejects", m, o) if o["ok"] else None
        tests.append((agree or why is not None, f"intact {v.name}: ours "
                      f"{'ok ' + str(o.get('status')) if o['ok'] else 'rejected'}, dcap-qvl "
                      f"{'ok ' + str(t.get('status')) if t['ok'] else 'rejected'}"
                      + (f" (gap: {why})" if why else ""), []))
    groups = {}
    for idx, m in enumerate(mutants):
        g = groups.setdefault((m.vector, m.kind), {"n": 0, "agree": 0, "stricter": {},
                                                   "excused": {}, "bad": []})
        g["n"] += 1
        o, t = mine[idx], theirs[idx]
        if o["ok"] and not t["ok"]:
            why = excuse("qvl-rejects", m, o)
            if why is None:
                g["bad"].append((idx, m, f"we accept ({o.get('status')}), dcap-qvl rejects: "
                                         f"{t['error']}"))
            else:
                g["excused"][why] = g["excused"].get(why, 0) + 1
        elif (o["ok"] and t["ok"] and o.get("status") != t.get("status") and
              SEVERITY.get(o.get("status"), -1) > SEVERITY.get(t.get("status"), 99)):
            g["stricter"]["worse status"] = g["stricter"].get("worse status", 0) + 1
        elif o["ok"] and t["ok"] and (o.get("status") != t.get("status") or
                                      sorted(o.get("advisory_ids") or []) !=
                                      sorted(t.get("advisory_ids") or [])):
            why = excuse("status", m, o)
            if why is None:
                g["bad"].append((idx, m, f"both accept, ours {o.get('status')} "
                                         f"{o.get('advisory_ids')}, dcap-qvl {t.get('status')} "
                                         f"{t.get('advisory_ids')}"))
            else:
                g["excused"][why] = g["excused"].get(why, 0) + 1
        elif not o["ok"] and t["ok"]:
            check = o.get("failed_check") or o.get("verdict")
            g["stricter"][check] = g["stricter"].get(check, 0) + 1
        else:
            g["agree"] += 1
    for (vec, kind), g in sorted(groups.items()):
        diag = []
        for idx, m, what in g["bad"][:8]:
            diag.append(f"mutant {idx} ({m.desc}): {what}")
            diag.append(f"  ours: {mine[idx].get('reason', '')!s:.300}")
            if KEEP:
                os.makedirs(KEEP, exist_ok=True)
                for ext in (".bin", ".json"):
                    shutil.copy(os.path.join(tmp, f"{idx}{ext}"),
                                os.path.join(KEEP, f"{vec}-{idx}{ext}"))
        title = (f"{vec} {kind}: {g['n']} mutants, {g['agree']} same verdict, "
                 f"stricter {g['stricter'] or 0}, excused {g['excused'] or 0}, "
                 f"more lenient {len(g['bad'])}")
        tests.append((not g["bad"], title, diag))
    print(f"1..{len(tests)}")
    print(f"# seed {SEED}, {len(mutants)} mutants (SGXQH_DIFF_MUTANTS, SGXQH_DIFF_SEED)")
    failed = 0
    for n, (ok, title, diag) in enumerate(tests, 1):
        print(f"{'ok' if ok else 'not ok'} {n} - {title}")
        for line in diag:
            print(f"# {line}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
