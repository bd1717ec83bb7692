#!/usr/bin/env node
// Joins the tables each benchmark wrote into test/bench/results/ into one report,
// test/bench/RESULTS.md, headed by the machine and the date, in a stable order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = new URL('../test/bench/results/', import.meta.url).pathname;
const out = new URL('../test/bench/RESULTS.md', import.meta.url).pathname;
const order = ['ssh', 'jobs', 'slack', 'agent', 'cron'];
const parts = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.md')) : [];
parts.sort((a, b) => {
  const ia = order.indexOf(path.basename(a, '.md'));
  const ib = order.indexOf(path.basename(b, '.md'));
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
});
if (parts.length === 0) {
  console.error('bench-report: no results in test/bench/results/ — did the benchmarks run?');
  process.exit(1);
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# HPC Relay benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}.`,
  'Every figure is measured against its alternative in the same run, on the loopback testbed (`test/testbed`). Reproduce with `npm run bench` (as root, for the testbed).',
  '',
];
const body = parts.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim()).join('\n\n');
fs.writeFileSync(out, `${header.join('\n')}\n${body}\n`);
console.log(`bench-report: wrote ${path.relative(process.cwd(), out)} from ${parts.length} result file(s).`);
