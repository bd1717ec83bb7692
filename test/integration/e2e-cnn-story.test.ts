/**
 * The research guide's story end to end, all real but Slack's and Anthropic's servers: the relay's
 * own composition (a core with every service of RELAY_SERVICES started by the Runtime, as the
 * tray app and `hpc-relay daemon` run it) aimed at the testbed's SLURM over one ssh2 session, the
 * Slack emulator behind the real Bolt client, the Anthropic emulator behind the real SDK, and a
 * recording Notifier as the tray.
 *
 * 1. A DM "train the CNN for 2 epochs with lr 0.01" → the scripted model answers with a
 *    submit_job call → the CNN is uploaded and trained by SLURM with /usr/bin/python3 on CPU on
 *    synthetic data → its completion event (events file) → exactly one tray notification, one
 *    report in the home channel with the metrics and the chart PNG in its thread, and the agent's
 *    summary with a next step in the conversation → `status` shows COMPLETED and the best val_acc.
 * 2. The same through the deterministic path, `/hpc submit cnn_train epochs=2 lr=0.01`: no model
 *    call at all.
 * 3. A run submitted from a terminal with plain sbatch: adopted from the queue, its log found
 *    through `scontrol show job`, and its one report has the numbers and chart read from that log.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reply, toolResultsIn, type RecordedRequest } from '../fakes/anthropic-emulator.js';
import type { ApiCall } from '../fakes/slack-emulator.js';
import { PNG_SIGNATURE, startE2eRelay, until, type E2eRelay } from '../helpers/e2e-relay.js';
import { requestText as requestTextOf } from '../unit/agent-harness.js';

const tb = inject('testbed');
let relay: E2eRelay;

beforeAll(async () => {
  relay = await startE2eRelay(tb);
}, 120_000);
afterAll(async () => {
  await relay?.stop();
});

const JOB_MS = 240_000;

function posts(channel: string): ApiCall[] {
  return relay.slack.callsTo('chat.postMessage').filter((c) => c.params.channel === channel);
}

function reportsFor(jobId: string): ApiCall[] {
  return posts(relay.homeChannel).filter((c) => String(c.params.text).includes(`(job ${jobId})`) && !c.params.thread_ts);
}

/** The job's report, its chart and its tray notification, once each has arrived. */
async function endOf(jobId: string): Promise<{ report: ApiCall; chart: Buffer }> {
  const jobs = relay.core.jobs();
  const report = await until(() => reportsFor(jobId)[0], JOB_MS, () => `the Slack report of job ${jobId} (state ${jobs.store.get(jobId)?.state ?? '?'})`);
  const upload = await until(() => relay.slack.uploads.find((u) => u.filename === `job-${jobId}-metrics.png` && u.completed), 30_000, `the chart of job ${jobId}`);
  await until(() => (relay.tray.forJob(jobId).length > 0 ? true : undefined), 30_000, `the tray notification of job ${jobId}`);
  // Anything sent twice would have arrived by now.
  await new Promise((r) => setTimeout(r, 2000));
  expect(reportsFor(jobId)).toHaveLength(1);
  expect(relay.slack.uploads.filter((u) => u.filename === `job-${jobId}-metrics.png`)).toHaveLength(1);
  expect(relay.tray.forJob(jobId)).toHaveLength(1);
  expect(upload.channelId).toBe(relay.homeChannel);
  expect(upload.threadTs).toBe(String(report.response.ts));
  return { report, chart: upload.bytes ?? Buffer.alloc(0) };
}

/** What a job's end must look like everywhere: tray, report, chart, store, status. */
async function expectCompleted(jobId: string, report: ApiCall, chart: Buffer): Promise<string> {
  const jobs = relay.core.jobs();
  const job = jobs.store.get(jobId);
  expect(job).toMatchObject({ state: 'COMPLETED', final: true, exitCode: 0 });
  // Noticed through the events file (the wrapper's EXIT line), not a poll tick.
  expect(jobs.store.events(jobId).map((e) => e.kind)).toContain('exit-trap');
  expect(jobs.store.transitions(jobId).at(-1)).toMatchObject({ to: 'COMPLETED', source: 'events' });

  expect(relay.tray.forJob(jobId)[0]).toMatchObject({ outcome: 'succeeded', title: expect.stringContaining(`(${jobId}) COMPLETED`) });

  // The report: state, the metric lines with the best val_acc, and the next-step button.
  const blocks = JSON.stringify(report.params.blocks);
  expect(String(report.params.text)).toContain(`(job ${jobId}) finished: COMPLETED`);
  for (const m of ['train_loss', 'train_acc', 'val_loss', 'val_acc']) expect(blocks).toContain(`\`${m}\` final`);
  // metrics.csv counts epochs: the report says so.
  const best = /best `val_acc` (\d\.\d+) at epoch ([12])/.exec(blocks);
  expect(best, blocks).not.toBeNull();
  expect(blocks).toContain('Suggest next');

  // The chart: a real PNG of a sane size.
  expect(chart.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(chart.length).toBeGreaterThan(5_000);
  expect(chart.length).toBeLessThan(2_000_000);

  // `status` in a DM: COMPLETED and the best val_acc.
  const dm = relay.slack.dmChannelFor(relay.slack.defaultUserId);
  const before = posts(dm).length;
  relay.slack.sendDirectMessage({ text: 'status' });
  const row = new RegExp(`^${jobId}\\s`);
  const status = await relay.slack.waitFor(() => posts(dm).slice(before).find((c) => String(c.params.text).split('\n').some((l) => row.test(l))), 30_000, 'the status reply');
  const line = String(status.params.text).split('\n').find((l) => row.test(l)) ?? '';
  const bestAcc = best?.[1] ?? '?';
  expect(line).toMatch(new RegExp(`^${jobId}\\s+COMPLETED\\s+\\S+( \\S+)?\\s+val_acc ${bestAcc.replace('.', '\\.')}\\s+hpc-relay-cnn_train\\b`));
  return bestAcc;
}

describe('the research guide’s CNN story through the relay’s own composition', () => {
  it('runs every relay service', () => {
    expect(relay.services).toEqual(expect.arrayContaining(['cluster-link', 'slack-gateway', 'jobs', 'agent']));
  });

  it('DM "train the CNN for 2 epochs with lr 0.01" → submit_job → SLURM trains it → one tray notification, one report with metrics and chart, a next step, status', async () => {
    const { slack, model } = relay;
    const dm = slack.dmChannelFor(slack.defaultUserId);
    let submitReq: RecordedRequest | undefined;
    model.enqueue(
      reply.toolUse('submit_job', { template: 'cnn_train', params: { epochs: 2, lr: 0.01, synthetic: true } }),
      (req) => {
        submitReq = req;
        return reply.text(`Started: ${String(toolResultsIn(req.body)[0]?.content)}`);
      },
      // The end-of-job summary, written from what the relay sent the model.
      (req) => {
        const best = /best_val_acc=([\d.]+)/.exec(requestTextOf(req.body))?.[1] ?? '?';
        return reply.text(`Trained 2 epochs: best val_acc ${best}. Next: 10 epochs at lr 0.01.`);
      },
    );
    const before = posts(dm).length;
    slack.sendDirectMessage({ text: 'train the CNN for 2 epochs with lr 0.01' });
    const started = await slack.waitFor(() => posts(dm).slice(before).find((c) => String(c.params.text).startsWith('Started:')), 60_000, 'the agent’s answer');
    const jobId = /Submitted job (\d+)/.exec(String(started.params.text))?.[1] ?? '';
    expect(jobId, String(started.params.text)).toMatch(/^\d+$/);

    // What the model asked for is what SLURM ran.
    const first = model.messageRequests[0];
    expect(requestTextOf(first?.body)).toContain('train the CNN for 2 epochs with lr 0.01');
    expect(String(toolResultsIn(submitReq?.body)[0]?.content)).toContain(`Submitted job ${jobId} (cnn_train: `);
    const sub = relay.core.jobs().store.submissionByBaseId(jobId);
    expect(sub?.params).toMatchObject({ epochs: 2, lr: 0.01, synthetic: true });
    expect(sub?.remoteDir.startsWith(`${relay.remoteDir}/`)).toBe(true);

    const { report, chart } = await endOf(jobId);
    const best = await expectCompleted(jobId, report, chart);

    // The agent's summary with the next step, once, in the conversation it was asked in.
    const summary = await slack.waitFor(() => posts(dm).find((c) => String(c.params.text).startsWith(`Job ${jobId} ended`)), 60_000, 'the agent’s summary');
    const said = /^Job (\d+) ended \(COMPLETED\)\. Trained 2 epochs: best val_acc ([\d.]+)\. Next: 10 epochs at lr 0\.01\.$/.exec(String(summary.params.text));
    expect(said, String(summary.params.text)).not.toBeNull();
    // The model was told the job's real best val_acc (summary.json), the one the report shows.
    expect(Number(said?.[2]).toFixed(5)).toBe(Number(best).toFixed(5));
    expect(posts(dm).filter((c) => String(c.params.text).startsWith(`Job ${jobId} ended`))).toHaveLength(1);
    expect(model.messageRequests).toHaveLength(3);
    expect(model.pending).toBe(0);
    // The log the job printed: the host runner with Debian's python3 (torch on CPU).
    const log = await relay.core.jobs().tail(jobId, 200);
    expect(log.lines.join('\n')).toContain('runner=host python=/usr/bin/python3');
    expect(log.lines.join('\n')).toMatch(/device: cpu/);
  }, 420_000);

  it('`/hpc submit cnn_train epochs=2 lr=0.01`: the same end, and no model call at all', async () => {
    const { slack, model } = relay;
    const requestsBefore = model.requests.length;
    const postsBefore = relay.slack.responseUrlPosts.length;
    slack.sendSlashCommand({ command: '/hpc', text: 'submit cnn_train epochs=2 lr=0.01' });
    const answer = await slack.waitFor(() => slack.responseUrlPosts.slice(postsBefore).find((p) => String(p.body.text).startsWith('Submitted')), 60_000, 'the slash command’s answer');
    const jobId = /as job (\d+)/.exec(String(answer.body.text))?.[1] ?? '';
    expect(jobId, String(answer.body.text)).toMatch(/^\d+$/);
    expect(relay.core.jobs().store.submissionByBaseId(jobId)?.params).toMatchObject({ epochs: 2, lr: 0.01 });

    const { report, chart } = await endOf(jobId);
    await expectCompleted(jobId, report, chart);
    // Without the data set on disk the template trains on generated data, and says so.
    const log = await relay.core.jobs().tail(jobId, 200);
    expect(log.lines.join('\n')).toMatch(/data: synthetic/);
    expect(model.requests.length).toBe(requestsBefore);
  }, 420_000);

  it('a training run submitted from a terminal (plain sbatch, as the guide does): adopted, and its one report has the numbers and chart read from its log', async () => {
    const { core, slack, model } = relay;
    const requestsBefore = model.requests.length;
    const dir = `${relay.remoteDir}/terminal`;
    expect((await core.cluster().exec(['mkdir', '-p', dir])).code).toBe(0);
    // Three epochs of `key=value` metrics in its log, as many training scripts print them.
    const lines = [1, 2, 3].map((e) => `echo "epoch=${e} train_loss=${(1 / e).toFixed(3)} val_acc=${(0.5 + e / 10).toFixed(2)}"`).join('; ');
    const out = await core.cluster().exec(['sbatch', '--parsable', '--job-name=terminal-cnn', '--mem=32M', '--time=2', `--output=${dir}/train-%j.out`, `--wrap=${lines}; sleep 2`]);
    expect(out.code, out.stderr).toBe(0);
    const jobId = out.stdout.trim();
    // The tick adopts it and, once it has ended, finalizes it; played here rather than waited for.
    await until(async () => { await core.jobs().refresh(); return core.jobs().store.get(jobId)?.final ? true : undefined; }, JOB_MS, `job ${jobId} to end`);
    expect(core.jobs().store.get(jobId)).toMatchObject({ adopted: true, state: 'COMPLETED' });

    const report = await until(() => reportsFor(jobId)[0], 60_000, `the Slack report of job ${jobId}`);
    const upload = await until(() => slack.uploads.find((u) => u.filename === `job-${jobId}-metrics.png` && u.completed), 30_000, `the chart of job ${jobId}`);
    await new Promise((r) => setTimeout(r, 2000));
    expect(reportsFor(jobId)).toHaveLength(1);
    const blocks = JSON.stringify(report.params.blocks);
    expect(blocks).toContain('• `val_acc` final 0.8');
    expect(blocks).toContain('best `val_acc` 0.8 at epoch 3');
    expect(blocks).toContain('Submitted outside HPC Relay, so it cannot resubmit it');
    expect(blocks).not.toContain('hpc_resubmit');
    expect(upload.bytes?.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // Its output path was asked once and kept: `tail` reads it without asking again.
    expect((await core.jobs().tail(jobId, 1)).lines).toEqual(['epoch=3 train_loss=0.333 val_acc=0.80']);
    expect(core.jobs().store.events(jobId).filter((e) => e.kind === 'output-paths')).toHaveLength(1);
    expect(relay.tray.forJob(jobId)).toHaveLength(1);
    expect(model.requests.length).toBe(requestsBefore);
  }, 420_000);
});
