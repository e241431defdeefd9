#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Benchmark helper for `sgx-quote bench verify`: how many quotes per second
// @phala/dcap-qvl (the npm verifier our tests cross-check with) verifies on
// the same vectors, round-robin, for SECONDS. Prints one JSON line:
// {"count":N,"seconds":S,"rate":R,"verdicts":{"<dir>":"<status or error>"}}
// Usage: node qvl-bench.js SECONDS DIR:NOW [DIR:NOW ...]
// The module is found in $SGXQH_NODE_DIR, else ../tests/node from here.
'use strict';
const fs = require('fs');
const path = require('path');

const nodeDir = process.env.SGXQH_NODE_DIR || path.join(__dirname, '..', 'tests', 'node');
let QuoteVerifier;
try {
  ({ QuoteVerifier } = require(path.join(nodeDir, 'node_modules', '@phala', 'dcap-qvl')));
} catch (e) {
  // One line, not a stack trace: what is missing and how to get it.
  process.stderr.write(`qvl-bench.js: @phala/dcap-qvl is not installed in ${nodeDir} ` +
                       `(${e.code || e.message}): run \`npm ci --prefix ${nodeDir}\`, ` +
                       'or set SGXQH_NODE_DIR\n');
  process.exit(3);
}

function rootDer(file) {
  const text = fs.readFileSync(file, 'latin1');
  const m = text.match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  if (!m) throw new Error(`${file}: no PEM certificate`);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

const args = process.argv.slice(2);
if (args.length < 2) {
  process.stderr.write('usage: qvl-bench.js SECONDS DIR:NOW [DIR:NOW ...]\n');
  process.exit(2);
}
const seconds = Number(args[0]);
const cases = args.slice(1).map((spec) => {
  const at = spec.lastIndexOf(':');
  const dir = spec.slice(0, at);
  return {
    dir,
    now: Number(spec.slice(at + 1)),
    quote: fs.readFileSync(path.join(dir, 'quote.bin')),
    coll: JSON.parse(fs.readFileSync(path.join(dir, 'collateral.json'), 'utf8')),
    verifier: QuoteVerifier.newWithRootCa(rootDer(path.join(dir, 'root.pem'))),
  };
});

function once(c) {
  try {
    return c.verifier.verify(c.quote, c.coll, c.now).status;
  } catch (e) {
    return 'error: ' + (e && e.message ? e.message : String(e));
  }
}

const verdicts = {};
for (const c of cases) verdicts[path.basename(c.dir)] = once(c);

let count = 0;
const start = process.hrtime.bigint();
const limit = BigInt(Math.round(seconds * 1e9));
let elapsed = 0n;
while (elapsed < limit) {
  for (const c of cases) {
    once(c);
    count++;
  }
  elapsed = process.hrtime.bigint() - start;
}
const secs = Number(elapsed) / 1e9;
process.stdout.write(JSON.stringify({ count, seconds: secs, rate: count / secs, verdicts }) + '\n');
