#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""docs/errors.md names every code of the layers it documents in full.

Reads the enums from the headers (SIM_E_* in src/sim/sim.h, QUOTE_E_* in
include/sgxqh/quote.h, VERIFY_E_* in include/sgxqh/verify.h) and the
verdict and check names from src/verify/verify.c, and requires each to
appear in docs/errors.md as a table row: a value added to a header without
its documented meaning and fix fails here. TAP output.

Usage: test_docs_errors.py   (env: SGXQH_SOURCE_DIR)
"""
import os
import re
import sys

SRC = os.environ["SGXQH_SOURCE_DIR"]


def read(rel):
    with open(os.path.join(SRC, rel)) as f:
        return f.read()


def enum_values(rel, prefix):
    """(name, value) of every `PREFIX_... = N` in the header."""
    vals = re.findall(r"\b(" + prefix + r"[A-Z0-9_]+)\s*=\s*(-?\d+)", read(rel))
    assert vals, f"no {prefix} values in {rel}"
    return [(n, int(v)) for n, v in vals]


def rows(doc):
    return [l for l in doc.splitlines() if l.startswith("|")]


def main():
    doc = read("docs/errors.md")
    table = rows(doc)
    checks = []
    for rel, prefix, ok in [("src/sim/sim.h", "SIM_", "SIM_OK"),
                            ("include/sgxqh/quote.h", "QUOTE_", "QUOTE_OK"),
                            ("include/sgxqh/verify.h", "VERIFY_", "VERIFY_OK")]:
        for name, value in enum_values(rel, prefix):
            if not (name == ok or name.startswith(prefix + "E_")):
                continue
            # a row "| <value> | <name> | ..."
            want = re.compile(r"^\|\s*" + re.escape(str(value)) + r"\s*\|\s*" + re.escape(name) +
                              r"\s*\|")
            checks.append((f"{name} ({value}) has a row in docs/errors.md",
                           any(want.search(r) for r in table)))
    verify_c = read("src/verify/verify.c")
    verdicts = re.findall(r"case VERIFY_VERDICT_[A-Z_]+: return \"([a-z-]+)\";", verify_c)
    names = re.findall(r"\[VERIFY_CHECK_[A-Z_]+\] = \{\"([a-z-]+)\",", verify_c)
    assert len(verdicts) == 7 and len(names) == 19, (verdicts, names)
    for v in verdicts:
        checks.append((f"verdict {v} has a row",
                       any(re.match(r"^\|\s*`" + re.escape(v) + r"`\s*\|", r) for r in table)))
    for n in names:
        checks.append((f"check {n} has a row",
                       any(re.search(r"^\|\s*\d+\s*\|\s*`" + re.escape(n) + r"`\s*\|", r)
                           for r in table)))
    print(f"1..{len(checks)}")
    failed = 0
    for i, (what, ok) in enumerate(checks, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
