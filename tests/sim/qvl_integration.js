#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// End to end: quotes from the simulated platform (`sgx-quote get
// --in-process`) with collateral from `sgx-quote collateral export`, judged
// by an independent verifier, @phala/dcap-qvl, with the simulated root as
// trust anchor: through the tests/node/qvl-verify.js bridge for the verdicts
// of every --sim-tcb-status, and with the same call in-process for the many
// variations (time and clock skew, anchor, enclave identity options, a bit
// flipped in every signed byte → rejected), plus the CLI's usage/error
// contract. `sgx-quote verify` judges the clock-skew and identity-option cases too.
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

  // Still valid just before nextUpdate; rejected after it.
  let v = verifyFast(quote, good.coll, good.root, now + 30 * 86400 - 1);
  check('accepted one second before nextUpdate', v.ok, JSON.stringify(v));
  v = verifyFast(quote, good.coll, good.root, now + 30 * 86400 + 1);
  check('rejected after nextUpdate', !v.ok, JSON.stringify(v));

  // Clock skew (docs/simulation.md): issueDate and both CRLs' thisUpdate are
  // the export time minus one hour, so a verifier whose clock is behind the
  // exporting node still accepts; an hour and a second behind, both reject.
  const skew = 3600;
  v = verify(quote, good.coll, good.root, now - 300);
  check('dcap-qvl: verifier clock 5 minutes behind the export → accepted',
    v.ok && v.status === 'UpToDate', JSON.stringify(v));
  v = verifyFast(quote, good.coll, good.root, now - skew);
  check('dcap-qvl: verifier clock exactly 1 hour behind → accepted', v.ok, JSON.stringify(v));
  v = verifyFast(quote, good.coll, good.root, now - skew - 1);
  check('dcap-qvl: 1 hour and 1 second behind → rejected (issue date in the future)',
    !v.ok && /issue date is in the future/.test(v.error), JSON.stringify(v));
  const collDir = path.dirname(good.coll);
  const ours = (t) => runStatus(['verify', quote, '--collateral-dir', collDir, '--root', good.root,
    '--now', String(t)]);
  let o = ours(now - 300);
  check('sgx-quote verify --now T-300 → exit 0, VERIFIED: UpToDate',
    o.code === 0 && /^VERIFIED: UpToDate/.test(o.stdout), `${o.code} ${o.stdout} ${o.stderr}`);
  o = ours(now - skew);
  check('sgx-quote verify --now T-3600 → exit 0', o.code === 0, `${o.code} ${o.stdout}`);
  o = ours(now - skew - 1);
  check('sgx-quote verify --now T-3601 → exit 5, every dated item not yet valid',
    o.code === 5 && ['tcbInfo', 'qeIdentity', 'rootCaCrl', 'pckCrl'].every((i) =>
      new RegExp(`${i} is not valid before`).test(o.stdout)), `${o.code} ${o.stdout}`);

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

  // Enclave identity beyond measurements: ATTRIBUTES.FLAGS / XFRM, MISCSELECT,
  // CONFIGSVN (quote-format §1.3: body offsets 48, 56, 16, 260; the ISV body
  // starts at quote byte 48). Both ways of making the report carry them, the
  // QE accepts the report, and both verifiers accept the non-debug quote.
  const idOpts = ['--attributes', '0x85', '--xfrm', '0x1F', '--misc-select', 'a5000001',
    '--config-svn', '0x102'];
  const bodyHas = (b, flags) => b.readBigUInt64LE(48 + 48) === flags &&
    b.readBigUInt64LE(48 + 56) === 0x1fn && b.readUInt32LE(48 + 16) === 0xa5000001 &&
    b.readUInt16LE(48 + 260) === 0x102;
  const quoteId = path.join(tmp, 'quote-id.bin');
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--sim-enclave',
    ...idOpts, '--nonce', 'ffeeddccbbaa99887766554433221100', '--qe-report-out',
    path.join(tmp, 'qe-report-id.bin'), '-o', quoteId]);
  const repId = path.join(tmp, 'report-id.bin');
  const quoteIdR = path.join(tmp, 'quote-id-r.bin');
  run(['enclave', 'report', '--target-info', ti, ...idOpts, '-o', repId]);
  const rb = fs.readFileSync(repId);
  check('enclave report --attributes/--xfrm/--misc-select/--config-svn: body carries them',
    rb.readBigUInt64LE(48) === 0x85n && rb.readBigUInt64LE(56) === 0x1fn &&
    rb.readUInt32LE(16) === 0xa5000001 && rb.readUInt16LE(260) === 0x102, rb.toString('hex', 0, 64));
  run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--report', repId,
    '-o', quoteIdR]);
  for (const [how, f] of [['get --sim-enclave (with --nonce)', quoteId],
    ['enclave report + get --report', quoteIdR]]) {
    const b = fs.readFileSync(f);
    v = verifyFast(f, good.coll, good.root, now);
    const ov = runStatus(['verify', f, '--collateral-dir', path.dirname(good.coll), '--root',
      good.root, '--now', String(now)]);
    check(`${how}: quote body carries the identity options; dcap-qvl and sgx-quote verify accept`,
      bodyHas(b, 0x85n) && v.ok && v.status === 'UpToDate' && ov.code === 0,
      `${b.toString('hex', 48, 112)} ${JSON.stringify(v)} ${ov.code} ${ov.stdout}`);
  }
  // --debug sets DEBUG over --attributes in either order; verifiers refuse it.
  for (const order of [['--debug', '--attributes', '0x5'], ['--attributes', '0x5', '--debug']]) {
    const f = path.join(tmp, 'quote-id-dbg.bin');
    run(['get', '--in-process', '--state-dir', state, '--instance', 'node-a', '--sim-enclave',
      ...order, '-o', f]);
    const b = fs.readFileSync(f);
    v = verifyFast(f, good.coll, good.root, now);
    check(`${order.join(' ')} → flags 0x7, dcap-qvl rejects (debug)`,
      b.readBigUInt64LE(48 + 48) === 0x7n && !v.ok && /Debug/i.test(v.error), JSON.stringify(v));
  }

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
    ['enclave', 'report', '--target-info', ti, '--attributes', '0x1g', '-o', 'x'],
    ['enclave', 'report', '--target-info', ti, '--attributes', '0x10000000000000000', '-o', 'x'],
    ['enclave', 'report', '--target-info', ti, '--xfrm', '', '-o', 'x'],
    ['enclave', 'report', '--target-info', ti, '--misc-select', '100000000', '-o', 'x'],
    ['get', '--in-process', '--sim-enclave', '--config-svn', '65536', '-o', 'x'],
    ['get', '--in-process', '--report', rep, '--xfrm', '3', '-o', 'x'],
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
  check('group-readable seed → exit 1, SIM_E_SEED_MODE named, the fix said once, seed untouched',
    e.code === 1 && /SIM_E_SEED_MODE/.test(e.stderr) &&
    (e.stderr.match(/chmod 0600/g) || []).length === 1 && !/hint:/.test(e.stderr) &&
    fs.readFileSync(path.join(badState, 'seed')).equals(Buffer.alloc(32, 7)) &&
    (fs.statSync(path.join(badState, 'seed')).mode & 0o777) === 0o644, `${e.code} ${e.stderr}`);
  fs.writeFileSync(path.join(badState, 'seed'), Buffer.alloc(31, 7), { mode: 0o600 });
  fs.chmodSync(path.join(badState, 'seed'), 0o600);
  e = runStatus(['collateral', 'export', '--state-dir', badState, '-o', path.join(tmp, 'w')]);
  check('31-byte seed → exit 1, SIM_E_SEED_SIZE named, the fix said once', e.code === 1 &&
    /SIM_E_SEED_SIZE/.test(e.stderr) && (e.stderr.match(/move it away/g) || []).length === 1 &&
    !/hint:/.test(e.stderr), `${e.code} ${e.stderr}`);

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

  // Exhaustive: one bit flipped in every byte of every range a signature or
  // a signed hash covers (quote-format §1.4, §1.6), in this process on one
  // verifier and one parsed collateral so the ~1040 verifications take
  // seconds. Each byte gets bit (offset mod 8), so every bit position occurs.
  // Not asserted, because nothing signs them (dcap-qvl may reject them, as
  // parse errors, or ignore them): signature_data_len [432, 436) (QE3 leaves
  // it out on purpose), the QE auth data size [1012, 1014) (changing it
  // moves every later field), the certification data type and size, and the
  // certification data itself (its certificates are signed by their issuers,
  // but not the PEM armour, line breaks, the trailing NUL or the root copy).
  const authLen = q.readUInt16LE(1012);
  check('quote layout as expected for the exhaustive tamper test (A = 32, N = 584 + A + C)',
    authLen === 32 && q.readUInt32LE(432) === q.length - 436 &&
    q.readUInt16LE(1014 + authLen) === 5 &&
    q.readUInt32LE(1016 + authLen) === q.length - 1020 - authLen,
    `A ${authLen}, N ${q.readUInt32LE(432)}, len ${q.length}`);
  const signedRanges = [
    ['header + ISV report body (signed by the attestation key)', 0, 432],
    ['ISV report signature', 436, 500],
    ['attestation public key (hashed into the QE report data)', 500, 564],
    ['QE report body (signed by the PCK)', 564, 948],
    ['QE report signature', 948, 1012],
    ['QE auth data (hashed into the QE report data)', 1014, 1014 + authLen],
  ];
  const qvl = QuoteVerifier.newWithRootCa(rootDer(good.root));
  const collObj = JSON.parse(fs.readFileSync(good.coll, 'utf8'));
  const judge = (buf) => {
    try {
      qvl.verify(buf, collObj, now);
      return null;
    } catch (e) {
      return e && e.message ? e.message : String(e);
    }
  };
  const started = Date.now();
  check('exhaustive: the untampered quote passes the in-process verifier', judge(Buffer.from(q)) ===
    null);
  const reasons = {};
  for (const [what, from, to] of signedRanges) {
    const accepted = [];
    for (let off = from; off < to; off++) {
      const t = Buffer.from(q);
      t[off] ^= 1 << (off % 8);
      const why = judge(t);
      if (why === null)
        accepted.push(off);
      else
        reasons[why] = (reasons[why] || 0) + 1;
    }
    check(`exhaustive: all ${to - from} one-bit flips in ${what} [${from}, ${to}) rejected`,
      accepted.length === 0, `accepted at offsets ${accepted.join(', ')}`);
  }
  console.log(`# exhaustive tamper: ${Object.values(reasons).reduce((a, b) => a + b, 0)} ` +
    `rejections in ${Date.now() - started} ms: ${JSON.stringify(reasons)}`);

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
