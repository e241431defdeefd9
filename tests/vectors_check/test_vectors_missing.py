#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A missing or broken test vector must fail the test that reads it with a
message naming the file, not with an assertion about some later value.

Each case copies tests/vectors to a scratch directory, removes or corrupts
one file, runs one real test binary on the copy and checks that it fails and
that its output names the file. TAP output, one line per case.
Usage: test_vectors_missing.py (env: SGXQH_VECTORS, SGXQH_BUILD_DIR)
"""
import os
import shutil
import subprocess
import sys
import tempfile

VECTORS = os.environ["SGXQH_VECTORS"]


def exe(name):
    tests = os.path.join(os.environ["SGXQH_BUILD_DIR"], "tests")
    for sub in sorted(os.listdir(tests)):
        path = os.path.join(tests, sub, name)
        if os.access(path, os.X_OK) and os.path.isfile(path):
            return path
    raise SystemExit(f"Bail out! {name} is not built under {tests}")


def remove(path):
    os.remove(path)


def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(7)


# (test binary, file under the vectors dir, what to do to it)
CASES = [
    ("test_verify_vectors", "quotes/dcapqvl-sgx-v3/quote.bin", remove),
    ("test_verify_vectors", "quotes/dcapqvl-tdx-v4/meta.json", truncate),
    ("test_sgx_quote", "quotes/dcapqvl-sgx-v3/quote.bin", remove),
    ("test_client", "aesm-responses/07_get_quote_ex.response.bin", remove),
    ("test_cli_inspect", "quotes/intelqvl-sample-sgx-v3-testroot/quote.bin", remove),
    ("test_daemon_recorded", "aesm-requests/12_gramine_get_quote_ex.bin", remove),
]


def run_case(name, rel, damage):
    with tempfile.TemporaryDirectory(prefix="sgxqh-vectors-missing-") as tmp:
        copy = os.path.join(tmp, "vectors")
        shutil.copytree(VECTORS, copy)
        damage(os.path.join(copy, rel))
        env = dict(os.environ, SGXQH_VECTORS=copy)
        r = subprocess.run([exe(name)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=240)
        out = r.stdout.decode(errors="replace")
        if r.returncode == 0:
            return f"{name} passed with {rel} damaged"
        if rel not in out:
            tail = "\n# ".join(out.splitlines()[-15:])
            return f"{name} failed but its output does not name {rel}:\n# {tail}"
        return None


def main():
    print(f"1..{len(CASES)}")
    failed = 0
    for i, (name, rel, damage) in enumerate(CASES, 1):
        err = run_case(name, rel, damage)
        label = f"{damage.__name__} {rel} -> {name} names it"
        if err is None:
            print(f"ok {i} - {label}")
        else:
            failed += 1
            print(f"not ok {i} - {label}: {err}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
