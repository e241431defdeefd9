#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Adds up meson test logs (and the fuzz and deb results) into one closing line."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path.startswith(('fuzz:', 'deb:')):  # "<suite>:<passed>/<failed>"
        p, f = path.split(':', 1)[1].split('/')
        passed += int(p)
        failed += int(f)
        continue
    try:
        with open(path) as fh:
            for line in fh:
                r = json.loads(line).get('result')
                if r in ('OK', 'EXPECTEDFAIL'):
                    passed += 1
                elif r == 'SKIP':
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f'check: missing {path}: that suite did not run', file=sys.stderr)
        failed += 1
line = f'{passed} passed, {failed} failed'
if skipped:
    line += f', {skipped} skipped'
print(line)
# A skipped test proves nothing, so it fails the run too.
sys.exit(1 if failed or skipped else 0)
