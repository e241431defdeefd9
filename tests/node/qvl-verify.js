#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Test-only bridge to the independent verifier @phala/dcap-qvl (npm).
// Usage: node qvl-verify.js QUOTE COLLATERAL_JSON ROOT(.pem|.der) NOW_UNIX
// Prints one JSON line: {"ok":true,"status":...,"advisory_ids":[...]} or
// {"ok":false,"error":"..."}; exits 0 when verified, 1 when rejected, 2 on usage.
'use strict';
const fs = require('fs');
const path = require('path');
const { QuoteVerifier } = require(path.join(__dirname, 'node_modules', '@phala', 'dcap-qvl'));

function rootDer(file) {
  const buf = fs.readFileSync(file);
  const text = buf.toString('latin1');
  const m = text.match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  return m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : buf;
}

function errorText(e) {
  let s = e && e.message ? e.message : String(e);
  if (e && e.cause) s += ': ' + errorText(e.cause);
  return s;
}

const args = process.argv.slice(2);
if (args.length !== 4) {
  process.stderr.write('usage: qvl-verify.js QUOTE COLLATERAL_JSON ROOT NOW_UNIX\n');
  process.exit(2);
}
const [quoteFile, collFile, rootFile, now] = args;
try {
  const quote = fs.readFileSync(quoteFile);
  const coll = JSON.parse(fs.readFileSync(collFile, 'utf8'));
  const res = QuoteVerifier.newWithRootCa(rootDer(rootFile)).verify(quote, coll, Number(now));
  process.stdout.write(JSON.stringify({ ok: true, status: res.status, advisory_ids: res.advisory_ids || res.advisoryIds || [] }) + '\n');
  process.exit(0);
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: errorText(e) }) + '\n');
  process.exit(1);
}
