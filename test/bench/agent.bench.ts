// `npm run bench` (or: npx vitest run --project bench test/bench/agent.bench.ts).
// Model calls for the life of one 30-minute job being watched, on a simulated clock:
// - HPC Relay: the job service's event stream (state changes every few minutes, a metrics line a
//   minute) runs through the same wiring the app uses (forwardJobEnds on the tracker's events);
//   the agent hears only the final event and writes one summary;
// - the alternative (the research guide's §9, "hermes cron create every 5m --prompt …"): an agent
//   prompt every 5 minutes, run by the same agent (its prompt runner, as the cron module calls it)
//   with a scripted model doing what that prompt asks each time (squeue, tail the log, report).
// Both talk to the Anthropic emulator through the real SDK, so the calls and the token counts
// (estimated by the emulator from each request's real size: system prompt, tool definitions,
// history) are the ones these requests would make. Writes test/bench/results/agent.md.
// Asserted: the structural goal (0 calls during the run, at most 1 at its end); costs are reported.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardJobEnds } from '../../main/core/agent/wiring.js';
import { formatUsd } from '../../main/core/agent/pricing.js';
import type { JobRow, FinalizeResult, Transition } from '../../main/core/store/job-store.js';
import { reply, toolResultsIn } from '../fakes/anthropic-emulator.js';
import { denyAll, harness, type Harness } from '../unit/agent-harness.js';

const RESULTS = path.join(import.meta.dirname, 'results', 'agent.md');
const JOB_MINUTES = 30;
const CRON_EVERY_MIN = 5;
const GUIDE_PROMPT = 'SSH to hpc, run squeue -u $USER, tail the latest CNN training log, parse the latest epoch metrics, and report train/val accuracy and loss. If training is complete, summarize results and suggest next experiments.';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

interface Tally { during: number; atEnd: number; input: number; output: number; usd: number }

function tally(h: Harness, from: number, to: number): Pick<Tally, 'input' | 'output' | 'usd'> & { calls: number } {
  const rows = h.db.prepare('SELECT input_tokens AS i, output_tokens AS o, cost_usd AS c FROM agent_calls WHERE at >= ? AND at < ?').all(from, to) as Array<{ i: number; o: number; c: number }>;
  return { calls: rows.length, input: rows.reduce((n, r) => n + r.i, 0), output: rows.reduce((n, r) => n + r.o, 0), usd: rows.reduce((n, r) => n + r.c, 0) };
}

function logAt(minute: number): string {
  const lines = [];
  for (let e = 1; e <= minute; e++) lines.push(`epoch=${e} train_loss=${(2.3 - e * 0.05).toFixed(4)} train_acc=${(0.1 + e * 0.02).toFixed(4)} val_loss=${(2.3 - e * 0.04).toFixed(4)} val_acc=${(0.1 + e * 0.018).toFixed(4)}`);
  return lines.join('\n');
}

describe('agent model calls while one 30-minute job is watched', () => {
  it('HPC Relay (completion event → one summary) vs an agent cron prompt every 5 minutes; writes test/bench/results/agent.md', async () => {
    const h = await harness();
    cleanup.push(() => h.close());
    const t0 = h.clock.t;
    const min = (m: number) => t0 + m * 60_000;

    // --- HPC Relay -------------------------------------------------------------------------
    h.emu.enqueue(reply.toolUse('submit_job', { template: 'cnn_train', params: { epochs: 30, lr: 0.01 } }), reply.text('Submitted; I will report when it ends.'));
    const r = await h.agent.ask('train the CNN for 30 epochs with lr 0.01', { conversationId: 'slack:C0LAB:bench', where: { channelId: 'C0LAB', threadTs: 'bench' }, approver: denyAll() });
    const jobId = r.submitted[0]?.jobId ?? '';
    const askCalls = h.emu.messageRequests.length;

    const tracker = new EventEmitter<{ transition: [Transition]; final: [FinalizeResult] }>();
    forwardJobEnds(h.agent, tracker, h.logger);
    const row = (state: string, final: boolean, elapsedSec: number | null): JobRow => ({
      jobKey: jobId, baseId: jobId, arrayTask: null, submissionId: null, sweepId: 's', name: 'hpc-relay-cnn_train', partition: 'gpu_normal', state, reason: null, final,
      exitCode: final ? 0 : null, signal: final ? 0 : null, cancelledBy: null, elapsedSec, maxRssBytes: null, reqMemBytes: null, timeLimitSec: 3600, nodeList: 'vm',
      startedAt: null, endedAt: null, failureClass: null, failureSignature: null, adopted: false, firstSeenAt: t0, updatedAt: t0, finishedAt: final ? min(JOB_MINUTES) : null,
    });
    let events = 0;
    h.clock.t = min(0.5);
    tracker.emit('transition', { jobKey: jobId, from: 'PENDING', to: 'RUNNING', source: 'events', at: h.clock.t } as unknown as Transition);
    events++;
    for (let m = 1; m < JOB_MINUTES; m++) {
      h.clock.t = min(m);
      h.services.logs.set(jobId, logAt(m));
      tracker.emit('transition', { jobKey: jobId, from: 'RUNNING', to: 'RUNNING', source: 'squeue', at: h.clock.t } as unknown as Transition);
      events++;
      await new Promise((res) => setImmediate(res));
    }
    const duringOurs = h.emu.messageRequests.length - askCalls;
    h.clock.t = min(JOB_MINUTES);
    h.services.logs.set(jobId, `${logAt(JOB_MINUTES)}\nbest val_acc=0.64 at epoch 30`);
    h.services.metrics.set(jobId, { jobId, dir: '/scratch/u/results', series: { val_acc: [{ step: 30, value: 0.64 }] }, summary: { best_val_acc: 0.64, best_epoch: 30 } });
    h.emu.enqueue(reply.text('Finished: val_acc 0.64 at epoch 30, still rising. Next: 60 epochs at lr 0.01.'));
    const posted = new Promise<void>((res) => { const check = () => (h.poster.posts.length ? res() : setTimeout(check, 5)); check(); });
    tracker.emit('final', { job: row('COMPLETED', true, JOB_MINUTES * 60), decision: { action: 'notify' }, transition: { jobKey: jobId, from: 'RUNNING', to: 'COMPLETED', source: 'events', at: h.clock.t } } as unknown as FinalizeResult);
    events++;
    await posted;
    const endOurs = h.emu.messageRequests.length - askCalls - duringOurs;
    const oursCost = tally(h, min(0.01), min(JOB_MINUTES + 1));

    // --- Agent cron prompt every 5 minutes ------------------------------------------------
    const cronStart = min(100);
    const runner = h.agent.promptRunner();
    const cronCalls: number[] = [];
    for (let m = CRON_EVERY_MIN; m <= JOB_MINUTES; m += CRON_EVERY_MIN) {
      h.clock.t = cronStart + m * 60_000;
      h.services.logs.set(jobId, logAt(m));
      h.services.command = () => ({ exitCode: 0, stdout: m < JOB_MINUTES ? `JOBID PARTITION NAME ST TIME\n${jobId} gpu_normal hpc-relay-cnn_train R ${m}:00\n` : 'JOBID PARTITION NAME ST TIME\n', stderr: '', truncated: false });
      h.emu.enqueue(
        reply.toolUse('run_remote_command', { argv: ['squeue', '-u', 'relay'] }),
        reply.toolUse('tail_log', { job_id: jobId, bytes: 4000 }),
        (req) => reply.text(`Epoch ${m}: ${String(toolResultsIn(req.body)[0]?.content).split('\n').slice(-2, -1)[0] ?? ''}`),
      );
      const before = h.emu.messageRequests.length;
      await runner.run({ prompt: GUIDE_PROMPT, monitorId: 'guide', monitorName: 'guide §9 monitor' });
      cronCalls.push(h.emu.messageRequests.length - before);
    }
    const duringCron = cronCalls.slice(0, -1).reduce((a, b) => a + b, 0);
    const endCron = cronCalls.at(-1) ?? 0;
    const cronCost = tally(h, cronStart, cronStart + (JOB_MINUTES + 1) * 60_000);
    const perRun = cronCalls[0] ?? 0;

    expect(duringOurs).toBe(0);
    expect(endOurs).toBeLessThanOrEqual(1);
    expect(h.poster.posts).toHaveLength(1);

    const goal = (ok: boolean) => (ok ? '**met**' : '**not met**');
    const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
    const md = [
      '## Agent: model calls while one 30-minute job is watched',
      '',
      `Simulated clock; the Anthropic emulator behind the real SDK (token counts estimated by the emulator from each request's actual size). Model \`${h.settings.model}\`, priced as sonnet ($3 / $15 per million input / output tokens).`,
      `HPC Relay: the job's ${events} events (start, a state/metrics update a minute, the end) go through \`forwardJobEnds\` as in the app; the agent acts on the end only. Alternative: the research guide's §9 monitor, \`cron create "every ${CRON_EVERY_MIN}m" --prompt "…"\`, each run an agent prompt that checks squeue, tails the log and reports (${perRun} model calls a run, scripted).`,
      '',
      '| approach | model calls during the run | at its end | input tokens | output tokens | estimated cost |',
      '|---|---:|---:|---:|---:|---:|',
      `| HPC Relay: completion event → one summary | ${duringOurs} | ${endOurs} | ${k(oursCost.input)} | ${k(oursCost.output)} | ${formatUsd(oursCost.usd)} |`,
      `| Agent cron prompt every ${CRON_EVERY_MIN} min (${JOB_MINUTES / CRON_EVERY_MIN} runs) | ${duringCron} | ${endCron} | ${k(cronCost.input)} | ${k(cronCost.output)} | ${formatUsd(cronCost.usd)} |`,
      '',
      `- 0 model calls during the run: ${goal(duringOurs === 0)} (${duringOurs}).`,
      `- At most 1 at its end: ${goal(endOurs <= 1)} (${endOurs}).`,
      `- The submit itself (the user's message) took ${askCalls} calls in both worlds and is not counted above.`,
      `- Left on for a day, the cron prompt makes ${(24 * 60) / CRON_EVERY_MIN} runs × ${perRun} = ${((24 * 60) / CRON_EVERY_MIN) * perRun} model calls (≈ ${formatUsd((cronCost.usd / (JOB_MINUTES / CRON_EVERY_MIN)) * ((24 * 60) / CRON_EVERY_MIN))}) whether or not anything runs; HPC Relay makes one per job that ends, and none otherwise.`,
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, md);
  }, 120_000);
});
