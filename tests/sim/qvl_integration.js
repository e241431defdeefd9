#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// End to end: quotes from the simulated platform (`sgx-quote get
// --in-process`) with collateral from `sgx-quote collateral export`, judged
// by an independent verifier, @phala/dcap-qvl, with the simulated root as
// trust anchor: through the tests/node/qvl-verify.js bridge for the verdicts
// of every --sim-tcb-status, and with the same call in-process for the many
// variations (time, anchor, any signed byte changed → rejected), plus the
// CLI's usage/error contract.
// Env (set by meson): SGXQH_BUILD_DIR, SGXQH_NODE_DIR, SGXQH_VECTORS.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const build = process.env.SGXQH_BUILD_DIR;
const nodeDir = process.env.SGXQH_NODE_DIR;
if (!build || !nodeDir) {
  console.error('SGXQH_BUILD_DIR and SGXQH_NODE_DIR must be set (run through meson test)');
  process.exit(1);
}
const sgxQuote = path.join(build, 'src', 'cli', 'sgx-quote');
const bridge = path.join(nodeDir, 'qvl-verify.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sqh-sim-qvl-'));
const state = path.join(tmp, 'state');
const now = Math.floor(Date.now() / 1000);

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}${detail ? ': ' + detail : ''}`);
  }
}

function run(args) {
  return execFileSync(sgxQuote, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function runStatus(args) {
  const r = spawnSync(sgxQuote, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function verify(quoteFile, collFile, rootFile, t) {
  const r = spawnSync(process.execPath, [bridge, quoteFile, collFile, rootFile, String(t)],
    { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout.trim());
  } catch (e) {
    return { ok: false, error: `bridge output unparseable: ${r.stdout} ${r.stderr}` };
  }
}

// The same call the bridge makes, in this process: used for the many
// variations below so the test stays fast (the bridge judges the verdicts).
const { QuoteVerifier } = require(path.join(nodeDir, 'node_modules', '@phala', 'dcap-qvl'));
function rootDer(file) {
  const m = fs.readFileSync(file, 'latin1').match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}
function verifyFast(quoteFile, collFile, rootFile, t) {
  try {
    const res = QuoteVerifier.newWithRootCa(rootDer(rootFile)).verify(fs.readFileSync(quoteFile),
      JSON.parse(fs.readFileSync(collFile, 'utf8')), t);
    return { ok: true, status: res.status, advisory_ids: res.advisory_ids || [] };
  } catch (e) {
    let msg = e && e.message ? e.message : String(e);
    for (let c = e && e.cause; c; c = c.cause) msg += ': ' + (c.message || String(c));
    return { ok: false, error: msg };
  }
}

function exportCollateral(dir, extra, stateDir = state) {
  run(['collateral', 'export', '--state-dir', stateDir, '--instance', 'node-a', '--now', String(now),
    ...extra, '-o', dir]);
  return { coll: path.join(dir, 'collateral.json'), root: path.join(dir, 'root.pem') };
}

try {
  // One quote, with report data and a QE report back to the app.
  const quote = path.join(tmp, 'quote.bin');
  const qeReport = path.join(tmp, 'qe_report.bin');
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--sim-enclave',
    '--report-data', '48656c6c6f2c2073696d756c6174696f6e21', '--isv-prod-id', '3',
    '--nonce', '00112233445566778899aabbccddeeff', '--qe-report-out', qeReport, '-o', quote]);
  const q = fs.readFileSync(quote);
  check('quote written, v3 with type-5 cert data', q.length > 1052 && q.readUInt16LE(0) === 3 &&
    q.readUInt16LE(1046) === 5, `len ${q.length}`);
  check('QE report written (432 bytes)', fs.statSync(qeReport).size === 432);

  // Expected dcap-qvl verdict for each --sim-tcb-status (JS 0.3.9 throws for Revoked).
  const expected = {
    UpToDate: { ok: true, advisories: [] },
    SWHardeningNeeded: { ok: true, advisories: ['INTEL-SA-00615'] },
    ConfigurationNeeded: { ok: true, advisories: ['INTEL-SA-00289'] },
    OutOfDate: { ok: true, advisories: ['INTEL-SA-00828', 'INTEL-SA-00837'] },
    Revoked: { ok: false, error: /Revoked/ },
  };
  const colls = {};
  for (const [status, want] of Object.entries(expected)) {
    const c = exportCollateral(path.join(tmp, `coll-${status}`), ['--sim-tcb-status', status]);
    colls[status] = c;
    const v = verify(quote, c.coll, c.root, now);
    if (want.ok) {
      check(`dcap-qvl: --sim-tcb-status ${status} → ${status}`,
        v.ok && v.status === status &&
        JSON.stringify([...v.advisory_ids].sort()) === JSON.stringify([...want.advisories].sort()),
        JSON.stringify(v));
    } else {
      check(`dcap-qvl: --sim-tcb-status ${status} → rejected`, !v.ok && want.error.test(v.error),
        JSON.stringify(v));
    }
  }
  const good = colls.UpToDate;

  // Still valid just before nextUpdate; rejected after it and before issueDate.
  let v = verifyFast(quote, good.coll, good.root, now + 30 * 86400 - 1);
  check('accepted one second before nextUpdate', v.ok, JSON.stringify(v));
  v = verifyFast(quote, good.coll, good.root, now + 30 * 86400 + 1);
  check('rejected after nextUpdate', !v.ok, JSON.stringify(v));
  v = verifyFast(quote, good.coll, good.root, now - 1);
  check('rejected before issueDate', !v.ok, JSON.stringify(v));

  // The wrong trust anchor (Intel's production root) rejects.
  const intelRoot = path.join(process.env.SGXQH_VECTORS || '', 'quotes', 'intel-sgx-root-ca.pem');
  v = verifyFast(quote, good.coll, intelRoot, now);
  check('rejected with Intel\'s root as anchor', fs.existsSync(intelRoot) && !v.ok,
    JSON.stringify(v));

  // A quote from another node of the same seed verifies with node-a's collateral.
  const quoteB = path.join(tmp, 'quote-b.bin');
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-b', '--sim-enclave',
    '-o', quoteB]);
  v = verifyFast(quoteB, good.coll, good.root, now);
  check('quote from instance node-b accepted with node-a\'s collateral', v.ok &&
    v.status === 'UpToDate', JSON.stringify(v));

  // Another node of the cluster: its own state dir with a copy of the seed.
  // Certificates, CRLs and signed collateral are deterministic (RFC 6979), so
  // its export for the same --now is byte-identical, root.pem included: any
  // node's root.pem is every node's trust anchor (QVL compares root bytes).
  const state2 = path.join(tmp, 'state2');
  fs.mkdirSync(state2, { mode: 0o700 });
  fs.copyFileSync(path.join(state, 'seed'), path.join(state2, 'seed'));
  fs.chmodSync(path.join(state2, 'seed'), 0o600);
  const c2 = exportCollateral(path.join(tmp, 'coll-node2'), ['--sim-tcb-status', 'UpToDate'],
    state2);
  const dir1 = path.dirname(good.coll);
  const dir2 = path.dirname(c2.coll);
  const names = fs.readdirSync(dir1).sort();
  const differing = names.filter((f) => !fs.existsSync(path.join(dir2, f)) ||
    !fs.readFileSync(path.join(dir1, f)).equals(fs.readFileSync(path.join(dir2, f))));
  check('export from another state dir sharing the seed is byte-identical (11 files)',
    names.length === 11 && differing.length === 0 &&
    JSON.stringify(fs.readdirSync(dir2).sort()) === JSON.stringify(names),
    `differ: ${differing.join(', ')}`);
  const quoteC = path.join(tmp, 'quote-c.bin');
  run(['get', '--in-process', '--state-dir', state2, '--instance', 'node-c', '--sim-enclave',
    '-o', quoteC]);
  v = verify(quoteC, good.coll, good.root, now);
  check('quote from another state dir accepted with the first node\'s collateral and root',
    v.ok && v.status === 'UpToDate', JSON.stringify(v));

  // A debug enclave is rejected (dcap-qvl JS has no allow_debug).
  const quoteDbg = path.join(tmp, 'quote-debug.bin');
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--sim-enclave',
    '--debug', '-o', quoteDbg]);
  v = verifyFast(quoteDbg, good.coll, good.root, now);
  check('debug enclave rejected', !v.ok && /Debug/i.test(v.error), JSON.stringify(v));

  // The report-file path: target info → enclave report → quote.
  const ti = path.join(tmp, 'qe_ti.bin');
  const rep = path.join(tmp, 'report.bin');
  const quoteR = path.join(tmp, 'quote-r.bin');
  run(['enclave', 'target-info', '--in-process', '--state-dir', state, '--instance', 'node-a',
    '-o', ti]);
  run(['enclave', 'report', '--target-info', ti, '--mrenclave', 'ab'.repeat(32),
    '--report-data', 'cafe', '-o', rep]);
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--report', rep,
    '-o', quoteR]);
  v = verifyFast(quoteR, good.coll, good.root, now);
  const qr = fs.readFileSync(quoteR);
  check('quote for an `enclave report` file accepted, mrenclave and report data kept',
    v.ok && qr.subarray(48 + 64, 48 + 96).equals(Buffer.alloc(32, 0xab)) &&
    qr[48 + 320] === 0xca && qr[48 + 321] === 0xfe, JSON.stringify(v));

  // A report made for some other target info is refused by the simulated QE.
  const tiBad = Buffer.from(fs.readFileSync(ti));
  tiBad[0] ^= 1;
  fs.writeFileSync(path.join(tmp, 'ti-bad.bin'), tiBad);
  run(['enclave', 'report', '--target-info', path.join(tmp, 'ti-bad.bin'), '-o',
    path.join(tmp, 'report-bad.bin')]);
  const r = runStatus(['get', '--in-process', '--state-dir', state, '--instance', 'node-a',
    '--report', path.join(tmp, 'report-bad.bin'), '-o', path.join(tmp, 'never.bin')]);
  check('report not made for the QE → exit 1, SIM_E_INVALID_REPORT named',
    r.code === 1 && /SIM_E_INVALID_REPORT/.test(r.stderr) && !fs.existsSync(path.join(tmp,
      'never.bin')), `${r.code} ${r.stderr}`);

  // Command-line contract: usage errors exit 2, failures 1 and name the cause.
  const usage = [
    ['get', '--in-process', '--sim-enclave'],
    ['get', '--sim-enclave', '--state-dir', state, '-o', path.join(tmp, 'x.bin')],
    ['get', '--in-process', '--report', rep, '--sim-enclave', '-o', path.join(tmp, 'x.bin')],
    ['get', '--in-process', '--sim-enclave', '--nonce', '00', '-o', path.join(tmp, 'x.bin')],
    ['get', '--in-process', '--sim-enclave', '--sim-tcb-status', 'Great', '-o', 'x'],
    ['collateral', 'export', '--state-dir', state],
    ['collateral', 'frobnicate'],
    ['enclave', 'report', '--target-info', ti],
  ];
  for (const args of usage) {
    const u = runStatus(args);
    check(`usage error → exit 2: ${args.join(' ')}`, u.code === 2 && u.stderr.length > 0,
      `${u.code} ${u.stderr}`);
  }
  for (const args of [['get', '--help'], ['collateral', 'export', '--help'],
    ['enclave', 'report', '--help'], ['enclave', 'target-info', '--help']]) {
    const h = runStatus(args);
    check(`${args.join(' ')} → exit 0 with usage`, h.code === 0 && /usage:/.test(h.stdout),
      `${h.code}`);
  }
  const short = path.join(tmp, 'short-ti.bin');
  fs.writeFileSync(short, Buffer.alloc(100));
  let e = runStatus(['enclave', 'report', '--target-info', short, '-o', path.join(tmp, 'y')]);
  check('short target info → exit 1, names the size', e.code === 1 && /512 bytes/.test(e.stderr),
    `${e.code} ${e.stderr}`);
  const badState = path.join(tmp, 'bad-state');
  fs.mkdirSync(badState, { mode: 0o700 });
  fs.writeFileSync(path.join(badState, 'seed'), Buffer.alloc(32, 7), { mode: 0o644 });
  fs.chmodSync(path.join(badState, 'seed'), 0o644);
  e = runStatus(['get', '--in-process', '--state-dir', badState, '--sim-enclave', '-o',
    path.join(tmp, 'z')]);
  check('group-readable seed → exit 1, SIM_E_SEED_MODE named, seed untouched',
    e.code === 1 && /SIM_E_SEED_MODE/.test(e.stderr) && /chmod 0600/.test(e.stderr) &&
    fs.readFileSync(path.join(badState, 'seed')).equals(Buffer.alloc(32, 7)) &&
    (fs.statSync(path.join(badState, 'seed')).mode & 0o777) === 0o644, `${e.code} ${e.stderr}`);
  fs.writeFileSync(path.join(badState, 'seed'), Buffer.alloc(31, 7), { mode: 0o600 });
  fs.chmodSync(path.join(badState, 'seed'), 0o600);
  e = runStatus(['collateral', 'export', '--state-dir', badState, '-o', path.join(tmp, 'w')]);
  check('31-byte seed → exit 1, SIM_E_SEED_SIZE named', e.code === 1 &&
    /SIM_E_SEED_SIZE/.test(e.stderr), `${e.code} ${e.stderr}`);

  // A collateral/quote TCB mismatch (FMSPC) is caught.
  const cF = exportCollateral(path.join(tmp, 'coll-fmspc'), ['--sim-tcb', 'fmspc=00906ED50000']);
  v = verifyFast(quote, cF.coll, cF.root, now);
  check('collateral for another FMSPC rejected', !v.ok && /mspc/i.test(v.error), JSON.stringify(v));

  // Flip one byte of anything signed: every variant must be rejected.
  // [offset, why dcap-qvl must reject it]
  const isv = /ISV enclave report signature is invalid/;
  const qeSig = /Signature is invalid for qe_report/;
  const qeHash = /QE report hash mismatch/;
  const quoteFlips = {
    'header user_data (QE_ID)': [30, isv],
    'ISV report mr_enclave': [48 + 64, isv],
    'ISV report report_data': [48 + 320, isv],
    'ISV report attributes': [48 + 56, isv],
    'ISV signature': [436 + 10, isv],
    'attestation key': [500 + 5, qeHash],
    'QE report mr_signer': [564 + 128, qeSig],
    'QE report report_data': [564 + 320, qeSig],
    'QE report signature': [948 + 20, qeSig],
    'QE auth data': [1014 + 3, qeHash],
  };
  // The unmodified quote passes first, so the flips below are meaningful.
  v = verify(quote, good.coll, good.root, now);
  check('baseline accepted before tampering', v.ok && v.status === 'UpToDate', JSON.stringify(v));
  for (const [what, [off, why]] of Object.entries(quoteFlips)) {
    const t = Buffer.from(q);
    t[off] ^= 0x01;
    const f = path.join(tmp, 'tampered.bin');
    fs.writeFileSync(f, t);
    v = verifyFast(f, good.coll, good.root, now);
    check(`tampered ${what} (byte ${off}) rejected`, !v.ok && why.test(v.error),
      JSON.stringify(v));
  }

  const base = JSON.parse(fs.readFileSync(good.coll, 'utf8'));
  const collFlips = {
    'tcb_info body': (c) => { c.tcb_info = c.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18'); },
    'tcb_info level SVN': (c) => { c.tcb_info = c.tcb_info.replace('{"svn":14}', '{"svn":13}'); },
    'tcb_info signature': (c) => { c.tcb_info_signature = flipHex(c.tcb_info_signature, 7); },
    'qe_identity body': (c) => { c.qe_identity = c.qe_identity.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":16'); },
    'qe_identity signature': (c) => { c.qe_identity_signature = flipHex(c.qe_identity_signature, 70); },
  };
  const sigErr = /Signature is invalid for (tcb_info|qe_identity)/;
  for (const [what, mutate] of Object.entries(collFlips)) {
    const c = JSON.parse(JSON.stringify(base));
    mutate(c);
    const changed = JSON.stringify(c) !== JSON.stringify(base);
    const f = path.join(tmp, 'coll-tampered.json');
    fs.writeFileSync(f, JSON.stringify(c));
    v = verifyFast(quote, f, good.root, now);
    check(`tampered ${what} rejected`, changed && !v.ok && sigErr.test(v.error),
      JSON.stringify(v));
  }
} catch (e) {
  failed++;
  console.log(`not ok - unexpected failure: ${e.message}${e.stderr ? '\n' + e.stderr : ''}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

function flipHex(hex, i) {
  const d = '0123456789abcdef';
  const c = hex[i].toLowerCase();
  return hex.slice(0, i) + d[(d.indexOf(c) + 1) % 16] + hex.slice(i + 1);
}

console.log(`# ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
