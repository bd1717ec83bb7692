// `npm run bench` (or: npx vitest run --project bench test/bench/ssh.bench.ts), on the testbed.
// 100 trivial commands (`true`) on HPC Relay's warm ssh2 session, against a fresh OpenSSH `ssh`
// per command and against OpenSSH ControlMaster/ControlPersist, interleaved in one run. Writes
// test/bench/results/ssh.md. The only assertion is structural (no new handshake per command):
// speed goals are reported as ratios, never asserted.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { SshSession } from '../../main/core/cluster/ssh-session.js';
import { makeHome } from '../helpers/temp-home.js';
import { opensshArgs, testbedSession } from '../testbed/ssh-kit.js';
import { ms, stats, type Stats } from './stats.js';

const execFileAsync = promisify(execFile);
const tb = inject('testbed');
const RUNS = 100;
const WARMUP = 5;
const RESULTS = path.join(import.meta.dirname, 'results', 'ssh.md');

/** Strict, hermetic OpenSSH options: the testbed key and known_hosts, nothing from ~/.ssh. */
const OPENSSH = opensshArgs(tb);
const DEST = `${tb.user}@${tb.host}`;


let session: SshSession | null = null;
let controlSock: string | null = null;
afterAll(() => {
  session?.close();
  if (controlSock) {
    try {
      execFileSync('ssh', [...OPENSSH, '-S', controlSock, '-O', 'exit', DEST], { stdio: 'ignore' });
    } catch {
      // the master is gone already
    }
  }
});

describe('SSH round trip: warm ssh2 session vs OpenSSH', () => {
  it(`runs ${RUNS} × \`true\` each way and writes test/bench/results/ssh.md`, async () => {
    // HPC Relay: one ssh2 connection, every command an exec channel on it.
    const s = testbedSession(tb);
    session = s;
    await s.connect();

    // OpenSSH ControlMaster: one master (ControlPersist), then `ssh -S sock` per command.
    controlSock = path.join(makeHome('bench-cm'), 'cm.sock');
    execFileSync('ssh', [...OPENSSH, '-M', '-S', controlSock, '-o', 'ControlPersist=yes', '-f', '-N', DEST], { stdio: 'ignore', timeout: 30_000 });
    execFileSync('ssh', [...OPENSSH, '-S', controlSock, '-O', 'check', DEST], { stdio: 'ignore' });
    const sock = controlSock;

    const methods = {
      ssh2: async () => { const r = await s.exec(['true']); if (r.code !== 0) throw new Error(`exit ${r.code}`); },
      master: async () => { await execFileAsync('ssh', [...OPENSSH, '-S', sock, '-o', 'ControlMaster=no', DEST, 'true']); },
      fresh: async () => { await execFileAsync('ssh', [...OPENSSH, '-o', 'ControlMaster=no', '-o', 'ControlPath=none', DEST, 'true']); },
    };
    type Name = keyof typeof methods;
    const names = Object.keys(methods) as Name[];
    for (const n of names) for (let i = 0; i < WARMUP; i++) await methods[n]();

    // Interleaved, so drift on a shared machine hits every method alike.
    const samples: Record<Name, number[]> = { ssh2: [], master: [], fresh: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const n of names) {
        const t0 = performance.now();
        await methods[n]();
        samples[n].push(performance.now() - t0);
      }
    }

    // Zero new handshakes per command: the session made exactly one, for the whole run.
    expect(s.handshakes).toBe(1);

    const st = { ssh2: stats(samples.ssh2), master: stats(samples.master), fresh: stats(samples.fresh) };
    const vsMaster = st.ssh2.median / st.master.median;
    const vsFresh = st.fresh.median / st.ssh2.median;
    const openssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim() || 'OpenSSH'; // ssh -V prints to stderr
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
    const row = (label: string, x: Stats, handshakes: string) => `| ${label} | ${ms(x.median)} | ${ms(x.p95)} | ${ms(x.mean)} | ${ms(x.min)}–${ms(x.max)} | ${handshakes} |`;
    const md = [
      '## SSH: one warm ssh2 session vs OpenSSH',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${cpu}, ${os.type()} ${os.release()}, Node ${process.version}, ${openssh.split(',')[0]}.`,
      `${RUNS} sequential \`true\` per method after ${WARMUP} warm-up runs, the three methods interleaved, against the testbed's sshd on ${tb.host}:${tb.port} (loopback: no network latency, so every figure is CPU and protocol cost).`,
      '',
      '| method | median ms | p95 ms | mean ms | min–max ms | new handshakes per command |',
      '|---|---:|---:|---:|---:|---|',
      row('HPC Relay: warm ssh2 session, exec channel per command', st.ssh2, `0 (${s.handshakes} for all ${RUNS + WARMUP})`),
      row('OpenSSH ControlMaster/ControlPersist, `ssh -S sock` per command', st.master, '0 (1 for the master)'),
      row('OpenSSH, a fresh `ssh` process per command (BatchMode)', st.fresh, '1'),
      '',
      `- Within 1.5× of ControlMaster: ${met(vsMaster <= 1.5)} — the warm session's median is ${vsMaster.toFixed(2)}× ControlMaster's.`,
      `- At least 5× faster than a fresh \`ssh\` per command: ${met(vsFresh >= 5)} — ${vsFresh.toFixed(1)}× faster (median).`,
      `- Zero new handshakes per command: ${met(s.handshakes === 1)} — ${s.handshakes} handshake for ${RUNS + WARMUP} commands.`,
      '',
      'On a real link every fresh `ssh` also pays several network round trips (TCP, key exchange, auth) and, behind 2FA, a prompt; the warm session pays one round trip per command, as ControlMaster does, without a helper process per command.',
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, md);
    console.log(md);
  });
});
