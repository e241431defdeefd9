#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Test-only: many verifications by @phala/dcap-qvl in one node process (the
// differential test, tests/verify/test_differential.py, checks hundreds of
// mutants; one process each would cost more than the verifications).
// stdin: one JSON object per line {"id":..., "quote":FILE, "collateral":FILE,
// "root":FILE, "now":UNIX}. stdout: one line per input, in order:
// {"id":...,"ok":true,"status":...,"advisory_ids":[...]} or
// {"id":...,"ok":false,"error":"..."}.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { QuoteVerifier } = require(path.join(__dirname, 'node_modules', '@phala', 'dcap-qvl'));

function rootDer(file) {
  const buf = fs.readFileSync(file);
  const m = buf.toString('latin1').match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  return m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : buf;
}

function errorText(e) {
  let s = e && e.message ? e.message : String(e);
  if (e && e.cause) s += ': ' + errorText(e.cause);
  return s;
}

const verifiers = new Map(); // root file -> QuoteVerifier
function verifierFor(root) {
  if (!verifiers.has(root)) verifiers.set(root, QuoteVerifier.newWithRootCa(rootDer(root)));
  return verifiers.get(root);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let job = {};
  let out;
  try {
    job = JSON.parse(line);
    const quote = fs.readFileSync(job.quote);
    const coll = JSON.parse(fs.readFileSync(job.collateral, 'utf8'));
    const res = verifierFor(job.root).verify(quote, coll, Number(job.now));
    out = { id: job.id, ok: true, status: res.status,
            advisory_ids: res.advisory_ids || res.advisoryIds || [] };
  } catch (e) {
    out = { id: job.id, ok: false, error: errorText(e) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
