#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// End to end for simulated TDX quotes: `sgx-quote tdx report` -> `sgx-quote
// get --tdx --in-process` -> `sgx-quote collateral export --tdx`, judged by
// our verifier (`sgx-quote verify --json`) and by an independent one,
// @phala/dcap-qvl (QuoteVerifier.newWithRootCa with the simulated root):
// v4 and v5 quotes are UpToDate; --sim-tcb-status and tdx-module-status give
// the chosen statuses; a one-bit flip in any signed byte is rejected; a
// debug TD and a report from another simulated platform are refused.
// Env (set by meson): SGXQH_BUILD_DIR, SGXQH_NODE_DIR. TAP output.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const build = process.env.SGXQH_BUILD_DIR;
const nodeDir = process.env.SGXQH_NODE_DIR;
if (!build || !nodeDir) {
  console.error('SGXQH_BUILD_DIR and SGXQH_NODE_DIR must be set (run through meson test)');
  process.exit(1);
}
const { QuoteVerifier } = require(path.join(nodeDir, 'node_modules', '@phala', 'dcap-qvl'));
const sgxQuote = path.join(build, 'src', 'cli', 'sgx-quote');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sqh-tdx-qvl-'));
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
  const r = spawnSync(sgxQuote, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function rootDer(file) {
  const text = fs.readFileSync(file, 'latin1');
  const m = text.match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

// Collateral and verifier per directory, read once: the bit-flip sweep
// makes thousands of calls.
const verifiers = new Map();
function qvl(quote, dir) {
  if (!verifiers.has(dir)) {
    verifiers.set(dir, {
      coll: JSON.parse(fs.readFileSync(path.join(dir, 'collateral.json'), 'utf8')),
      verifier: QuoteVerifier.newWithRootCa(rootDer(path.join(dir, 'root.pem'))),
    });
  }
  const { coll, verifier } = verifiers.get(dir);
  try {
    const res = verifier.verify(quote, coll, now);
    return { ok: true, status: res.status };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
}

function ours(quoteFile, dir, extra) {
  const r = run(['verify', quoteFile, '--collateral-dir', dir, '--root',
    path.join(dir, 'root.pem'), '--json', ...(extra || [])]);
  let j = null;
  try { j = JSON.parse(r.stdout); } catch (e) { j = null; }
  return { code: r.code, json: j, stderr: r.stderr };
}

// One simulated node: state dir + options; returns {quote, file, dir}.
function scenario(name, platformOpts, reportOpts) {
  const base = path.join(tmp, name);
  fs.mkdirSync(base);
  const common = ['--state-dir', path.join(tmp, 'state'), '--instance', 'tdx-node',
    '--now', String(now), ...platformOpts];
  const rep = path.join(base, 'report');
  const qf = path.join(base, 'quote');
  const dir = path.join(base, 'coll');
  let r = run(['tdx', 'report', ...common, ...reportOpts, '-o', rep]);
  if (r.code !== 0) throw new Error(`tdx report: ${r.stderr}`);
  r = run(['get', '--tdx', '--in-process', ...common, '--report', rep, '-o', qf]);
  if (r.code !== 0) throw new Error(`get --tdx: ${r.stderr}`);
  r = run(['collateral', 'export', '--tdx', ...common, '-o', dir]);
  if (r.code !== 0) throw new Error(`collateral export: ${r.stderr}`);
  return { quote: fs.readFileSync(qf), file: qf, dir, report: rep, common };
}

try {
  // v4 and v5, UpToDate with both verifiers.
  const v4 = scenario('v4', [], ['--report-data', 'c0ffee']);
  const v5 = scenario('v5', [], ['--version', '1']);
  for (const [n, s, ver] of [['v4', v4, 4], ['v5', v5, 5]]) {
    check(`${n}: quote version ${ver}, TDX`, s.quote.readUInt16LE(0) === ver &&
      s.quote.readUInt32LE(4) === 0x81);
    const o = ours(s.file, s.dir);
    check(`${n}: sgx-quote verify says UpToDate`, o.code === 0 && o.json &&
      o.json.status === 'UpToDate', JSON.stringify(o.json && o.json.reason) + o.stderr);
    const d = qvl(s.quote, s.dir);
    check(`${n}: dcap-qvl says UpToDate`, d.ok && d.status === 'UpToDate', JSON.stringify(d));
  }
  check('v4: 70 trailing zero bytes', v4.quote.length - 70 > 0 &&
    v4.quote.subarray(v4.quote.length - 70).every((b) => b === 0));

  // --sim-tcb-status and module identity statuses.
  const variants = [
    ['OutOfDate', ['--sim-tcb-status', 'OutOfDate'], 'OutOfDate', 4],
    ['SWHardeningNeeded', ['--sim-tcb-status', 'SWHardeningNeeded'], 'SWHardeningNeeded', 4],
    ['ConfigurationNeeded', ['--sim-tcb-status', 'ConfigurationNeeded'], 'ConfigurationNeeded', 4],
    ['module-OutOfDate', ['--sim-tcb', 'tdx-module-status=OutOfDate'], 'OutOfDate', 4],
  ];
  for (const [n, opts, want, code] of variants) {
    const s = scenario(n, opts, []);
    const o = ours(s.file, s.dir);
    check(`${n}: sgx-quote verify says ${want} (exit ${code} by default policy)`,
      o.code === code && o.json && o.json.status === want,
      `exit ${o.code} ${JSON.stringify(o.json && o.json.status)}`);
    const a = ours(s.file, s.dir, ['--accept', want]);
    check(`${n}: accepted with --accept ${want}`, a.code === 0, `exit ${a.code}`);
    const d = qvl(s.quote, s.dir);
    check(`${n}: dcap-qvl says ${want}`, d.ok && d.status === want, JSON.stringify(d));
    if (n === 'module-OutOfDate')
      check(`${n}: module status OutOfDate`, o.json && o.json.tdx_module_status === 'OutOfDate');
  }
  for (const [n, opts] of [['Revoked', ['--sim-tcb-status', 'Revoked']],
    ['module-Revoked', ['--sim-tcb', 'tdx-module-status=Revoked']]]) {
    const s = scenario(n, opts, []);
    const o = ours(s.file, s.dir);
    check(`${n}: sgx-quote verify exits 7 (revoked)`, o.code === 7, `exit ${o.code}`);
    const d = qvl(s.quote, s.dir);
    check(`${n}: dcap-qvl rejects`, !d.ok || d.status === 'Revoked', JSON.stringify(d));
  }

  // A debug TD: both refuse by default.
  const dbg = scenario('debug', [], ['--debug']);
  const od = ours(dbg.file, dbg.dir);
  check('debug TD: sgx-quote verify exits 4', od.code === 4, `exit ${od.code}`);
  check('debug TD: dcap-qvl rejects', !qvl(dbg.quote, dbg.dir).ok);

  // One-bit flips in every signed byte: header + TD body (attestation key
  // signature), the QE report (PCK signature), the attestation key and the
  // auth data (bound by the QE report's REPORTDATA).
  for (const [n, s, signedLen] of [['v4', v4, 632], ['v5', v5, 702]]) {
    const sigStart = signedLen + 4;
    const akStart = sigStart + 64;
    const qeReport = akStart + 64 + 6;
    const authStart = qeReport + 384 + 64 + 2;
    const ranges = [[0, signedLen], [akStart, akStart + 64], [qeReport, qeReport + 384],
      [authStart, authStart + 32]];
    let accepted = [];
    let total = 0;
    for (const [a, b] of ranges) {
      for (let i = a; i < b; i++) {
        const q = Buffer.from(s.quote);
        q[i] ^= 1 << (i % 8);
        total++;
        if (qvl(q, s.dir).ok) accepted.push(i);
      }
    }
    check(`${n}: dcap-qvl rejects all ${total} one-bit flips of signed bytes`,
      accepted.length === 0, `accepted at ${accepted.slice(0, 10).join(',')}`);
    // Our verifier, on a spread of offsets (one process each).
    accepted = [];
    for (const i of [0, 4, 12, 28, 48, 48 + 136, 48 + 520, signedLen - 1, akStart + 5,
      qeReport + 64, qeReport + 320, authStart + 31]) {
      const q = Buffer.from(s.quote);
      q[i] ^= 1 << (i % 8);
      const f = path.join(tmp, `flip-${n}-${i}`);
      fs.writeFileSync(f, q);
      if (ours(f, s.dir).code === 0) accepted.push(i);
    }
    check(`${n}: sgx-quote verify rejects one-bit flips`, accepted.length === 0,
      `accepted at ${accepted.join(',')}`);
  }

  // A report made by another simulated platform is refused, never signed.
  const other = run(['get', '--tdx', '--in-process', '--state-dir', path.join(tmp, 'state'),
    '--instance', 'another-node', '--report', v4.report, '-o', path.join(tmp, 'nope')]);
  check('report of another platform: exit 1 naming SIM_E_TD_REPORT_MAC',
    other.code === 1 && /SIM_E_TD_REPORT_MAC/.test(other.stderr), other.stderr);
  // Usage errors.
  const u = run(['get', '--tdx', '--in-process', '--raw', '--report', v4.report, '-o', '-']);
  check('get --tdx --raw --in-process is a usage error', u.code === 2, `exit ${u.code}`);
  const u2 = run(['tdx', 'report', '--version', '2', '-o', '-']);
  check('tdx report --version 2 is a usage error', u2.code === 2, `exit ${u2.code}`);
  const u3 = run(['tdx', 'report', '--rtmr', '4=00', '-o', '-']);
  check('tdx report --rtmr 4=.. is a usage error', u3.code === 2, `exit ${u3.code}`);
} catch (e) {
  check('scenario setup', false, String(e && e.stack ? e.stack : e));
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`1..${passed + failed}`);
console.log(`# ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
