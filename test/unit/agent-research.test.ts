import { describe, expect, it } from 'vitest';
import { parseGoal } from '../../main/core/agent/research-goal.js';
import { isRelayError } from '../../main/core/errors.js';
import type { AgentIo, ApprovalOutcome } from '../../main/core/slack/jobs-api.js';
import { reply, type RecordedRequest, type ScriptedReply } from '../fakes/anthropic-emulator.js';
import { harnessPerTest, requestText, type Harness } from './agent-harness.js';

const setup = harnessPerTest();

const CONV = 'slack:C0LAB:1700000000.000200';
const WHERE = { channelId: 'C0LAB', threadTs: '1700000000.000200' };

/** The synthetic objective: val_acc peaks at 0.9 for lr = 0.03 and falls with distance in log10(lr). */
const objective = (lr: number): number => Math.round((0.9 - 0.25 * Math.abs(Math.log10(lr / 0.03))) * 10_000) / 10_000;

/** A scripted model proposing runs: a function of the request, so it can see the round it is asked for. */
function proposer(rounds: Record<number, Array<Record<string, unknown>>>, note = 'narrowing in on the best learning rate') {
  return (req: RecordedRequest): ScriptedReply => {
    const round = Number(/Round (\d+):/.exec(requestText(req.body))?.[1]);
    const runs = rounds[round];
    if (!runs) throw new Error(`no proposal scripted for round ${round}`);
    return reply.toolUse('propose_runs', { runs: runs.map((params) => ({ params })), note });
  };
}

/** The job service's completion events for every submitted job not yet finished (in order), with metrics from the objective. */
async function finishJobs(h: Harness, count = Infinity): Promise<string[]> {
  const done: string[] = [];
  for (const job of [...h.services.submitted]) {
    if (done.length >= count) break;
    if (h.services.states.get(job.jobId) !== 'PENDING') continue;
    const acc = objective(Number(job.params.lr ?? 0.01));
    h.services.metrics.set(job.jobId, {
      jobId: job.jobId, dir: `/scratch/u/${job.jobId}/results`,
      series: { val_acc: [{ step: 1, value: Math.round(acc * 0.8 * 1e4) / 1e4 }, { step: 2, value: acc }], train_loss: [{ step: 1, value: 2.1 }, { step: 2, value: 1.4 }] },
      summary: { best_val_acc: acc, best_epoch: 2 },
    });
    h.services.states.set(job.jobId, 'COMPLETED');
    done.push(job.jobId);
    await h.agent.onJobFinished({ jobId: job.jobId, state: 'COMPLETED', exitCode: '0:0', elapsedSec: 40 });
  }
  return done;
}

describe('research goals (read by rules, no model call)', () => {
  it('reads the example goal and its options', () => {
    expect(parseGoal('research val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time')).toEqual({
      text: 'val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time', metric: 'val_acc', direction: 'max', strict: false, target: 0.85, templateId: 'cnn_train',
      maxRuns: 6, parallel: 2, plateauRuns: 3, fixed: {}, tune: [],
    });
    expect(parseGoal('research val_loss <= 0.3 on cnn_train, max 10 runs, 3 in parallel, plateau 4, with epochs=2 synthetic=true, tune lr and batch_size')).toMatchObject({
      metric: 'val_loss', direction: 'min', target: 0.3, maxRuns: 10, parallel: 3, plateauRuns: 4, fixed: { epochs: '2', synthetic: 'true' }, tune: ['lr', 'batch_size'],
    });
    expect(parseGoal('research val_acc > 85% on cnn_train')).toMatchObject({ target: 0.85, strict: true, maxRuns: 6, parallel: 1 });
  });

  it.each([
    ['research make it better', 'needs a target'],
    ['research val_acc >= 0.85', 'as `on TEMPLATE`'],
    ['research val_acc >= 0.85 on cnn_train, at most 99 runs', 'from 1 to 50'],
    ['research val_acc >= 0.85 on cnn_train, 9 at a time', 'from 1 to 8'],
  ])('%s is refused with the reason and an example', (text, why) => {
    let err: unknown;
    try { parseGoal(text); } catch (e) { err = e; }
    expect(isRelayError(err, 'AGENT_GOAL_INVALID')).toBe(true);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).toContain('research val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time');
  });
});

describe('research loop (event-driven; fake cluster services, real store and emulator)', () => {
  it('converges in 3 rounds on a synthetic objective: one model call and one update per round, no polling', async () => {
    const h = await setup();
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }, { lr: 0.3 }], 2: [{ lr: 0.1 }, { lr: 0.01 }], 3: [{ lr: 0.03 }, { lr: 0.05 }] }));
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }, { lr: 0.3 }], 2: [{ lr: 0.1 }, { lr: 0.01 }], 3: [{ lr: 0.03 }, { lr: 0.05 }] }));
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }, { lr: 0.3 }], 2: [{ lr: 0.1 }, { lr: 0.01 }], 3: [{ lr: 0.03 }, { lr: 0.05 }] }));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time, with epochs=2 synthetic=true', { conversationId: CONV, where: WHERE });
    expect(h.services.submitted.map((j) => j.params)).toEqual([{ epochs: '2', synthetic: 'true', lr: 0.001 }, { epochs: '2', synthetic: 'true', lr: 0.3 }]);
    expect(h.emu.messageRequests).toHaveLength(1);

    // Round 1 ends: the first job alone decides nothing (its batch mate still runs).
    await finishJobs(h, 1);
    expect(h.emu.messageRequests).toHaveLength(1);
    await finishJobs(h);
    expect(h.emu.messageRequests).toHaveLength(2);
    const round2 = requestText(h.emu.messageRequests[1]?.body);
    expect(round2).toContain('#1 lr=0.001 → COMPLETED, val_acc 0.5307');
    expect(round2).toContain('#2 lr=0.3 → COMPLETED, val_acc 0.65');
    expect(round2).toContain('Fixed values (not yours to set): epochs=2 synthetic=true');
    expect(h.emu.messageRequests[1]?.body?.tool_choice).toEqual({ type: 'tool', name: 'propose_runs' });

    await finishJobs(h);
    expect(h.services.submitted.map((j) => j.params.lr)).toEqual([0.001, 0.3, 0.1, 0.01, 0.03, 0.05]);
    await finishJobs(h, 1); // lr 0.03 → 0.9: target met while its batch mate still runs
    expect(h.store.loop(loopId)).toMatchObject({ status: 'done', stopReason: 'target met', iteration: 3 });
    await finishJobs(h);

    expect(h.emu.messageRequests).toHaveLength(3);
    expect(h.store.calls(CONV).map((c) => c.purpose)).toEqual(['research', 'research', 'research']);
    expect(h.services.called('jobStatus')).toEqual([]);
    const audit = h.store.auditLog({ loopId });
    expect(audit.map((a) => a.tool)).toEqual(['propose_runs', 'submit_job', 'submit_job', 'propose_runs', 'submit_job', 'submit_job', 'propose_runs', 'submit_job', 'submit_job']);
    expect(audit[1]).toMatchObject({ decision: 'auto', input: '{"template":"cnn_train","params":{"epochs":"2","synthetic":"true","lr":0.001}}', output: 'Submitted job 1000.' });
    const texts = h.poster.posts.map((p) => p.text);
    expect(h.poster.posts.every((p) => p.where.threadTs === WHERE.threadTs)).toBe(true);
    expect(texts).toHaveLength(5);
    expect(texts[0]).toMatch(/^Research started: val_acc ≥ 0\.85 on cnn_train, at most 6 runs, 2 at a time, plateau 3, with epochs=2 synthetic=true\. Varying batch_size, lr\./);
    expect(texts[1]).toBe('Research round 1: Next: #1 lr=0.001 (job 1000), #2 lr=0.3 (job 1001). narrowing in on the best learning rate');
    expect(texts[2]).toContain('Research round 2: Results: #1 lr=0.001 → val_acc 0.531, #2 lr=0.3 → val_acc 0.650. Best so far val_acc 0.650 (#2); target ≥ 0.85. Next: #3 lr=0.1 (job 1002), #4 lr=0.01 (job 1003).');
    expect(texts[3]).toContain('Research round 3:');
    // The end report: why, the best, the cost; the target; every run in order with the best marked; what still runs.
    const report = (texts[4] ?? '').split('\n');
    expect(report[0]).toMatch(/^Research done: target met\. best val_acc 0\.900 by #5 \(job 1004: epochs=2 synthetic=true lr=0\.03\)\. 6 runs in 3 rounds; model cost (&lt; )?\$\d+\.\d\d\.$/);
    expect(report.slice(1)).toEqual([
      'Target val_acc ≥ 0.85: met, best 0.900 (#5, job 1004).',
      'Every run (all with epochs=2 synthetic=true):',
      '```#  job   lr     best val_acc  final  state',
      '1  1000  0.001  0.531         0.531  COMPLETED',
      '2  1001  0.3    0.650         0.650  COMPLETED',
      '3  1002  0.1    0.769         0.769  COMPLETED',
      '4  1003  0.01   0.781         0.781  COMPLETED',
      '5  1004  0.03   0.900         0.900  COMPLETED  ← best',
      '6  1005  0.05   —             —      running```',
      'Still running (not cancelled): `1005`.',
    ]);
  });

  it('restart mid-loop: a new agent over the same database takes the completion events and carries on', async () => {
    const h = await setup();
    const rounds = { 1: [{ lr: 0.3 }], 2: [{ lr: 0.05 }], 3: [{ lr: 0.03 }] };
    h.emu.enqueue(proposer(rounds), proposer(rounds), proposer(rounds));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.88 on cnn_train, at most 5 runs', { conversationId: CONV, where: WHERE });
    expect(h.services.submitted).toHaveLength(1);

    h.agent = h.restart(); // the relay restarted: nothing in memory survives
    await h.agent.resume();
    expect(h.emu.messageRequests).toHaveLength(1); // its job still runs: nothing to decide
    await finishJobs(h);
    expect(h.services.submitted.map((j) => j.params.lr)).toEqual([0.3, 0.05]);

    // Another restart, and this time the job ended while the relay was down: resume checks once.
    h.agent = h.restart();
    const [, second] = h.services.submitted;
    h.services.states.set(second!.jobId, 'COMPLETED');
    h.services.metrics.set(second!.jobId, { jobId: second!.jobId, dir: '/x', series: { val_acc: [{ step: 1, value: objective(0.05) }] }, summary: {} });
    await h.agent.resume();
    // One status check per restart, for the loop's unfinished jobs only: a reconciliation, not a poll.
    expect(h.services.called('jobStatus').map((c) => c.args[0])).toEqual([[h.services.submitted[0]!.jobId], [second!.jobId]]);
    expect(h.services.submitted.map((j) => j.params.lr)).toEqual([0.3, 0.05, 0.03]);
    await finishJobs(h);
    expect(h.store.loop(loopId)).toMatchObject({ status: 'done', stopReason: 'target met', iteration: 3 });
    expect(h.emu.messageRequests).toHaveLength(3);
  });

  it('stops on a plateau: no improvement over the last k runs', async () => {
    const h = await setup();
    const rounds = { 1: [{ lr: 0.001 }], 2: [{ lr: 0.3 }], 3: [{ lr: 1 }], 4: [{ lr: 0.0005 }] };
    for (let i = 0; i < 4; i++) h.emu.enqueue(proposer(rounds));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.95 on cnn_train, at most 10 runs, plateau 2', { conversationId: CONV, where: WHERE });
    for (let i = 0; i < 4; i++) await finishJobs(h);
    // 0.531, 0.650, 0.531, 0.456: the last two do not beat 0.650.
    expect(h.store.loop(loopId)).toMatchObject({ status: 'done', stopReason: 'no improvement over the last 2 runs (plateau)' });
    expect(h.emu.messageRequests).toHaveLength(4);
    expect(h.poster.posts.at(-1)?.text).toMatch(/^Research done: no improvement over the last 2 runs \(plateau\)\. best val_acc 0\.650 by #2/);
  });

  it('stops at the run limit without reaching the target', async () => {
    const h = await setup();
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }, { lr: 1 }] }));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.99 on cnn_train, at most 2 runs, 2 at a time', { conversationId: CONV, where: WHERE });
    await finishJobs(h);
    expect(h.store.loop(loopId)).toMatchObject({ status: 'done', stopReason: 'used all 2 runs without reaching the target' });
    expect(h.emu.messageRequests).toHaveLength(1);
  });

  it('a round\'s results are the runs of the round before, even when that round ran fewer than the loop runs at a time', async () => {
    const h = await setup();
    // Round 2 gets one usable proposal (the other repeats round 1): round 3's post must list that one run only.
    const rounds = { 1: [{ lr: 0.001 }, { lr: 0.3 }], 2: [{ lr: 0.1 }, { lr: 0.3 }], 3: [{ lr: 0.01 }, { lr: 0.05 }] };
    for (let i = 0; i < 3; i++) h.emu.enqueue(proposer(rounds));
    await h.agent.research.start('research val_acc ≥ 0.95 on cnn_train, at most 6 runs, 2 at a time, plateau 5, with epochs=2', { conversationId: CONV, where: WHERE });
    h.clock.t += 60_000;
    await finishJobs(h);
    expect(h.services.submitted.map((j) => j.params.lr)).toEqual([0.001, 0.3, 0.1]);
    h.clock.t += 60_000;
    await finishJobs(h);
    const round3 = h.poster.posts.map((p) => p.text).find((t) => t.startsWith('Research round 3:')) ?? '';
    expect(round3).toContain('Results: #3 lr=0.1 → val_acc 0.769. Best so far val_acc 0.769 (#3)');
    expect(round3).not.toContain('#2 lr=0.3 →');
  });

  it('checks proposals in code: out of bounds, not tunable, fixed or repeated values are never submitted', async () => {
    const h = await setup();
    h.emu.enqueue(proposer({
      1: [{ lr: 50 }, { python: '/bin/sh' }, { epochs: 500 }, { lr: 0.02, batch_size: 1.5 }, { lr: 0.02 }, { lr: 0.02 }],
    }));
    await h.agent.research.start('research val_acc ≥ 0.99 on cnn_train, at most 4 runs, 2 at a time, with epochs=2', { conversationId: CONV, where: WHERE });
    expect(h.services.submitted.map((j) => j.params)).toEqual([{ epochs: '2', lr: 0.02 }]);
    const update = h.poster.posts.at(-1)?.text ?? '';
    expect(update).toContain('Skipped 5 unusable proposals');
    expect(update).toContain('lr=50 is outside 1e-7…10');
  });

  it('`stop` in the thread ends the loop; later completion events call the model no more', async () => {
    const h = await setup();
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }] }));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.95 on cnn_train', { conversationId: CONV, where: WHERE });
    const said: string[] = [];
    const io: AgentIo = { say: async (t) => { said.push(t); }, requestApproval: async (): Promise<ApprovalOutcome> => ({ approved: false, by: null, reason: 'denied' }) };
    await h.agent.handle({ text: 'stop', userId: 'U0ADA', channelId: WHERE.channelId, threadTs: WHERE.threadTs }, io);
    expect(h.store.loop(loopId)).toMatchObject({ status: 'stopped', stopReason: 'stopped by <@U0ADA>' });
    expect(h.poster.posts.at(-1)?.text).toContain('Research stopped: stopped by <@U0ADA>.');
    expect(h.poster.posts.at(-1)?.text).toContain('Still running (not cancelled): `1000`');
    await finishJobs(h);
    expect(h.emu.messageRequests).toHaveLength(1);
    await h.agent.handle({ text: 'stop', userId: 'U0ADA', channelId: WHERE.channelId, threadTs: WHERE.threadTs }, io);
    expect(said).toEqual(['No research loop is running in this thread.']);
  });

  it('stops cleanly when the monthly budget runs out', async () => {
    const h = await setup({ settings: { monthlyBudgetUsd: 0.02 } });
    h.emu.enqueue({ kind: 'tool_use', calls: [{ name: 'propose_runs', input: { runs: [{ params: { lr: 0.3 } }] } }], usage: { input_tokens: 5000, output_tokens: 500 } });
    const loopId = await h.agent.research.start('research val_acc ≥ 0.95 on cnn_train', { conversationId: CONV, where: WHERE });
    await finishJobs(h);
    expect(h.emu.messageRequests).toHaveLength(1);
    expect(h.store.loop(loopId)?.status).toBe('stopped');
    expect(h.poster.posts.at(-1)?.text).toMatch(/^Research stopped: The agent's monthly budget is used up: \$0\.02 of \$0\.02/);
  });

  it('refuses a goal it cannot run, before any model call', async () => {
    const h = await setup();
    await expect(h.agent.research.start('research val_acc ≥ 0.9 on nope', { conversationId: CONV, where: WHERE })).rejects.toThrow('There is no template "nope"');
    await expect(h.agent.research.start('research val_acc ≥ 0.9 on cnn_train with colour=red', { conversationId: CONV, where: WHERE })).rejects.toThrow('has no parameter "colour"');
    expect(h.emu.messageRequests).toHaveLength(0);
    expect(h.store.loops()).toEqual([]);
  });
});
