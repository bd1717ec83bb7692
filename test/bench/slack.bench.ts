// `npm run bench` (or: npx vitest run --project bench test/bench/slack.bench.ts), on the testbed.
// A DM "status" → the reply in the DM, through the Slack emulator (real Bolt, real Socket Mode
// wire protocol), the relay's gateway and command layer, and `squeue --me` on the testbed over the
// warm SSH session — against the same with a new SSH connection per request (what a bot that shells
// out to `ssh host squeue` pays), and against no cluster at all (the Slack path alone). Interleaved,
// 50 runs each. Writes test/bench/results/slack.md. The goal (median ≤ 250 ms on loopback) is
// reported, never asserted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import type { JobsApi } from '../../main/core/slack/jobs-api.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { ClusterJobs } from '../fakes/slack-cluster-jobs.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { MemoryJobs } from '../fakes/slack-ports.js';
import { testbedCore } from '../helpers/testbed-core.js';
import { ms, stats, type Stats } from './stats.js';

const tb = inject('testbed');
const RUNS = 50;
const WARMUP = 5;
const RESULTS = path.join(import.meta.dirname, 'results', 'slack.md');


const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

/** A relay: its own emulator workspace and gateway, answering with `jobs`. */
async function relay(jobs: JobsApi): Promise<{ emu: SlackEmulator; gw: SlackGateway }> {
  const emu = await startSlackEmulator();
  cleanup.push(() => emu.close());
  const gw = createSlackGateway({ botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), allowedUsers: () => [emu.defaultUserId], ports: { jobs } });
  cleanup.push(() => gw.stop());
  await gw.start();
  return { emu, gw };
}

/** DM "status", resolve when the reply is recorded by the emulator; returns milliseconds. */
async function roundTrip(emu: SlackEmulator, expectText: RegExp): Promise<number> {
  const before = emu.callsTo('chat.postMessage').length;
  const t0 = performance.now();
  emu.sendDirectMessage({ text: 'status' });
  const call = await emu.waitFor(() => emu.callsTo('chat.postMessage')[before], 30_000, 'the status reply');
  const dt = performance.now() - t0;
  if (!expectText.test(String(call.params.text))) throw new Error(`unexpected reply: ${String(call.params.text).slice(0, 200)}`);
  return dt;
}

describe('Slack DM → reply for `status`', () => {
  it(`measures ${RUNS} round trips each way and writes test/bench/results/slack.md`, async () => {
    // Warm: one core, one SSH session for the whole run.
    const core = testbedCore(tb);
    cleanup.push(() => core.close());
    await core.cluster().ssh.connect();
    const warmJobs = new ClusterJobs(() => core.cluster(), { outDir: '/tmp', scripts: {} });
    // Cold: a new core (new SSH connection, key exchange, auth) per request, closed after.
    let coldHandshakes = 0;
    const unused = async (): Promise<never> => { throw new Error('not used by this benchmark'); };
    const coldJobs: JobsApi = {
      tail: unused, cancel: unused, submit: unused, resubmit: unused, stats: unused,
      listJobs: async () => {
        const c: Core = testbedCore(tb);
        try {
          const r = await new ClusterJobs(() => c.cluster(), { outDir: '/tmp', scripts: {} }).listJobs();
          coldHandshakes += c.cluster().ssh.handshakes;
          return r;
        } finally {
          await c.close();
        }
      },
    };
    const methods = {
      warm: await relay(warmJobs),
      cold: await relay(coldJobs),
      memory: await relay(new MemoryJobs()),
    };
    type Name = keyof typeof methods;
    const names = Object.keys(methods) as Name[];
    const reply = { warm: /^(No tracked jobs\.|\*\d+ jobs?\*)/, cold: /^(No tracked jobs\.|\*\d+ jobs?\*)/, memory: /^\*2 jobs\*/ };
    for (const n of names) for (let i = 0; i < WARMUP; i++) await roundTrip(methods[n].emu, reply[n]);

    const samples: Record<Name, number[]> = { warm: [], cold: [], memory: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const n of names) samples[n].push(await roundTrip(methods[n].emu, reply[n]));
    }
    // The warm path really stayed on one connection; the cold one really made one per request.
    expect(core.cluster().ssh.handshakes).toBe(1);
    expect(coldHandshakes).toBe(RUNS + WARMUP);

    const st = { warm: stats(samples.warm), cold: stats(samples.cold), memory: stats(samples.memory) };
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
    const row = (label: string, x: Stats) => `| ${label} | ${ms(x.median)} | ${ms(x.p95)} | ${ms(x.mean)} | ${ms(x.min)}–${ms(x.max)} |`;
    const md = [
      '## Slack: DM → reply for `status`',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${cpu}, ${os.type()} ${os.release()}, Node ${process.version}.`,
      `${RUNS} sequential DMs "status" per method after ${WARMUP} warm-up runs, the methods interleaved. Timed from the Slack emulator sending the \`message.im\` event over Socket Mode to it recording the bot's \`chat.postMessage\`: Bolt, the allowlist, the parser, the command, the outgoing queue and redaction are all inside. The cluster is the testbed's SLURM behind its sshd on ${tb.host}:${tb.port} (loopback).`,
      '',
      '| method | median ms | p95 ms | mean ms | min–max ms |',
      '|---|---:|---:|---:|---:|',
      row('HPC Relay: `squeue --me` on the warm SSH session', st.warm),
      row('a new SSH connection per request (`ssh host squeue`-style)', st.cold),
      row('no cluster (in-memory jobs): the Slack path alone', st.memory),
      '',
      `- Median ≤ 250 ms on loopback with a warm session: ${met(st.warm.median <= 250)} — ${ms(st.warm.median)} ms (p95 ${ms(st.warm.p95)} ms).`,
      `- Of that, the Slack side (emulator, Socket Mode, Bolt, gateway) is ~${ms(st.memory.median)} ms; the rest is one \`squeue\` over SSH.`,
      `- A new SSH connection per request costs ${ms(st.cold.median - st.warm.median)} ms more per answer here (${(st.cold.median / st.warm.median).toFixed(1)}×), before any real network latency or 2FA prompt.`,
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, md);
    console.log(md);
  });
});
