import { describe, expect, it } from 'vitest';
import type { AgentIo, ApprovalOutcome, ApprovalRequest } from '../../main/core/slack/jobs-api.js';
import { reply } from '../fakes/anthropic-emulator.js';
import { denyAll, harnessPerTest, lastToolResults, requestText, type Harness } from './agent-harness.js';

const setup = harnessPerTest();

const WHERE = { channelId: 'C0LAB', threadTs: '1700000000.000300' };
const CONV = 'slack:C0LAB:1700000000.000300';

/** Launches job 1000 from a request in the thread (the scripted model submits it). */
async function launch(h: Harness): Promise<string> {
  h.emu.enqueue(reply.toolUse('submit_job', { template: 'cnn_train', params: { epochs: 2, lr: 0.01 } }), reply.text('Submitted job 1000.'));
  const r = await h.agent.ask('train the CNN for 2 epochs with lr 0.01', { conversationId: CONV, where: WHERE, approver: denyAll() });
  const id = r.submitted[0]?.jobId ?? '';
  h.services.logs.set(id, 'epoch=1 train_loss=2.1 val_acc=0.31\nepoch=2 train_loss=1.7 val_acc=0.44\nbest val_acc=0.44 at epoch 2\n');
  h.services.metrics.set(id, { jobId: id, dir: '/scratch/u/results', series: { val_acc: [{ step: 1, value: 0.31 }, { step: 2, value: 0.44 }] }, summary: { best_val_acc: 0.44, best_epoch: 2 } });
  return id;
}

class FakeIo implements AgentIo {
  readonly said: string[] = [];
  readonly approvals: ApprovalRequest[] = [];
  constructor(private readonly outcome: ApprovalOutcome = { approved: false, by: 'U0BOSS', reason: 'denied' }) {}
  async say(text: string): Promise<void> {
    this.said.push(text);
  }
  async requestApproval(req: ApprovalRequest): Promise<ApprovalOutcome> {
    this.approvals.push(req);
    return this.outcome;
  }
}

describe('when a job ends (onJobFinished)', () => {
  it('a job the agent launched gets exactly one summary call and one post in its thread, even if the event repeats', async () => {
    const h = await setup();
    const id = await launch(h);
    h.emu.enqueue(reply.text('Finished: val_acc 0.44 after 2 epochs, still climbing. Next: 10 epochs at lr 0.01.'));
    const before = h.emu.messageRequests.length;
    await h.agent.onJobFinished({ jobId: id, state: 'COMPLETED', exitCode: '0:0', elapsedSec: 35 });
    await h.agent.onJobFinished({ jobId: id, state: 'COMPLETED', exitCode: '0:0', elapsedSec: 35 });
    expect(h.emu.messageRequests.length - before).toBe(1);
    const req = h.emu.messageRequests.at(-1)?.body;
    expect(req?.tools).toBeUndefined();
    expect(req?.max_tokens).toBe(400);
    const text = requestText(req);
    expect(text).toContain(`Job ${id} from template cnn_train with epochs=2 lr=0.01 ended: COMPLETED, exit 0:0 after 35s.`);
    expect(text).toContain('val_acc: 1:0.31 2:0.44');
    expect(text).toMatch(/<untrusted-data source=\\"log of job 1000\\">/);
    expect(h.poster.posts).toEqual([{ where: WHERE, text: `Job ${id} ended (COMPLETED). Finished: val_acc 0.44 after 2 epochs, still climbing. Next: 10 epochs at lr 0.01.` }]);
    expect(h.store.calls(CONV).map((c) => c.purpose)).toEqual(['request', 'request', 'summary']);

    // A reply in the thread continues from the summary.
    h.emu.enqueue(reply.text('Submitting 10 epochs needs your approval since I read the log.'));
    await h.agent.ask('do that', { conversationId: CONV, where: WHERE, approver: denyAll() });
    expect(requestText(h.emu.messageRequests.at(-1)?.body)).toContain('[HPC Relay event] Job 1000 (cnn_train) ended: COMPLETED');
    expect(h.store.conversation(CONV)?.tainted).toBe(true);
  });

  it('a sweep the agent launched gets one summary of the whole sweep when its last task ends; its tasks\' own ends cost nothing', async () => {
    const h = await setup();
    const id = await launch(h);
    const before = h.emu.messageRequests.length;
    // Each task's end: no run of its own, so no model call.
    await h.agent.onJobFinished({ jobId: `${id}_0`, state: 'COMPLETED', exitCode: '0:0' });
    await h.agent.onJobFinished({ jobId: `${id}_1`, state: 'OUT_OF_MEMORY', exitCode: '0:125' });
    expect(h.emu.messageRequests.length).toBe(before);
    const task = (t: number, state: string, lr: string, best: number | null) => ({
      task: t, jobKey: `${id}_${t}`, state, failureClass: state === 'COMPLETED' ? null : 'host-oom', exitCode: 0, signal: 0, elapsedSec: 60, attempts: 1, params: { lr },
      best: best === null ? null : { value: best, step: 2 },
    });
    const sweep = {
      sweepId: 'sub-1', anchorKey: `${id}_0`, name: 'hpc-relay-sweep', baseIds: [id], spanSec: 120, metric: { name: 'val_acc', goal: 'max' as const },
      tasks: [task(0, 'COMPLETED', '0.01', 0.62), task(1, 'OUT_OF_MEMORY', '<!channel>', null), task(2, 'COMPLETED', '0.03', 0.81)],
    };
    h.emu.enqueue(reply.text('lr 0.03 won (0.81); task 1 ran out of memory. Next: lr 0.03 and 0.05 with mem=16G.'));
    await h.agent.onSweepFinished(sweep);
    await h.agent.onSweepFinished(sweep);
    expect(h.emu.messageRequests.length - before).toBe(1);
    const text = requestText(h.emu.messageRequests.at(-1)?.body);
    expect(text).toContain(`The job array (a sweep over a parameter grid) launched from template cnn_train with epochs=2 lr=0.01 has ended: 3 tasks: 2 completed, 1 out of memory.`);
    expect(text).toContain(`task 2 (lr=0.03): COMPLETED, best val_acc 0.81 at step 2`);
    expect(text).toContain(`task 1 (lr=<!channel>): OUT_OF_MEMORY, host-oom`);
    expect(text).toMatch(new RegExp(`<untrusted-data source=\\\\"tasks of sweep ${id}\\\\">`));
    expect(h.poster.posts).toEqual([{ where: WHERE, text: `Sweep ${id} ended (3 tasks: 2 completed, 1 out of memory). lr 0.03 won (0.81); task 1 ran out of memory. Next: lr 0.03 and 0.05 with mem=16G.` }]);
    expect(h.store.calls(CONV).map((c) => c.purpose)).toEqual(['request', 'request', 'summary']);
    // A sweep it did not launch: nothing.
    await h.agent.onSweepFinished({ ...sweep, baseIds: ['4242'] });
    expect(h.emu.messageRequests.length - before).toBe(1);
  });

  it('a job the agent did not launch costs nothing: no model call, no post', async () => {
    const h = await setup();
    await h.agent.onJobFinished({ jobId: '4242', state: 'FAILED', exitCode: '1:0' });
    expect(h.emu.messageRequests).toEqual([]);
    expect(h.poster.posts).toEqual([]);
    expect(h.services.calls).toEqual([]);
  });

  it('with the agent off, the end of its job is still posted, from the numbers alone', async () => {
    const h = await setup();
    const id = await launch(h);
    h.settings.enabled = false;
    const before = h.emu.messageRequests.length;
    await h.agent.onJobFinished({ jobId: id, state: 'COMPLETED', exitCode: '0:0', elapsedSec: 35 });
    expect(h.emu.messageRequests.length).toBe(before);
    expect(h.poster.posts).toEqual([{ where: WHERE, text: `Job ${id} (cnn_train) ended: COMPLETED, exit 0:0 after 35s; best_val_acc=0.44 best_epoch=2.` }]);
  });

  it('when the summary call fails, the plain facts are posted with the reason', async () => {
    const h = await setup({ retries: 0 });
    const id = await launch(h);
    h.emu.enqueue(reply.error(500));
    await h.agent.onJobFinished({ jobId: id, state: 'FAILED', exitCode: '1:0', elapsedSec: 3 });
    expect(h.poster.posts[0]?.text).toBe(`Job ${id} (cnn_train) ended: FAILED, exit 1:0 after 3s; best_val_acc=0.44 best_epoch=2.\n(No summary: The model API is failing (HTTP 500: Internal server error); nothing was done. Ask again in a few minutes; https://status.anthropic.com says whether it is down.)`);
  });
});

describe('the Slack AgentHandler', () => {
  it('without an API key, free-form text gets how to enable the agent, and no model call', async () => {
    const h = await setup();
    h.key.value = null;
    const io = new FakeIo();
    await h.agent.handle({ text: 'train the CNN', userId: 'U0ADA', channelId: 'D0ADA' }, io);
    h.key.value = 'sk-ant-api03-present-but-disabled-000';
    h.settings.enabled = false;
    await h.agent.handle({ text: 'train the CNN', userId: 'U0ADA', channelId: 'D0ADA' }, io);
    expect(io.said).toEqual([
      'The agent has no Anthropic API key, so I can only run commands (`help` lists them). To enable it: `hpc-relay secrets set anthropic-api-key`, then `hpc-relay config set llm.enabled true`.',
      'The agent is off (llm.enabled is false), so I can only run commands (`help` lists them). To enable it: `hpc-relay config set llm.enabled true`.',
    ]);
    expect(h.emu.messageRequests).toEqual([]);
  });

  it('answers in the thread, with the job the thread is about, and asks approvals as Slack buttons', async () => {
    const h = await setup();
    h.emu.enqueue(reply.toolUse('cancel_job', { job_id: '77' }), (req) => reply.text(`Not cancelled: ${lastToolResults(req.body)[0]?.content.slice(0, 40) ?? ''}`));
    const io = new FakeIo();
    await h.agent.handle({ text: 'kill it', userId: 'U0ADA', channelId: 'C0LAB', threadTs: '1.2', jobId: '77' }, io);
    expect(requestText(h.emu.messageRequests[0]?.body)).toContain('(This thread is about job 77.)\\nkill it');
    expect(io.approvals).toEqual([{ summary: 'Cancel job 77', detail: 'scancel 77\n\nAsked by the agent; needs approval because cancelling changes the cluster.' }]);
    expect(h.services.called('cancelJob')).toEqual([]);
    expect(io.said).toEqual(['Not cancelled: Not done: this needs a person\'s approval']);
    expect(h.store.conversation('slack:C0LAB:1.2')).not.toBeNull();
  });

  it('an approved click lets it through', async () => {
    const h = await setup();
    h.emu.enqueue(reply.toolUse('cancel_job', { job_id: '77' }), reply.text('Cancelled job 77.'));
    const io = new FakeIo({ approved: true, by: 'U0BOSS' });
    await h.agent.handle({ text: 'cancel 77 please', userId: 'U0ADA', channelId: 'C0LAB', threadTs: '1.3' }, io);
    expect(h.services.called('cancelJob').map((c) => c.args)).toEqual([['77']]);
    expect(h.store.auditLog({ conversationId: 'slack:C0LAB:1.3' })[0]).toMatchObject({ tool: 'cancel_job', decision: 'approved', approvedBy: 'U0BOSS' });
  });

  it('`research …` with a goal it cannot read answers with the reason and an example, no model call', async () => {
    const h = await setup();
    const io = new FakeIo();
    await h.agent.handle({ text: 'research make the CNN better', userId: 'U0ADA', channelId: 'C0LAB', threadTs: '1.4' }, io);
    expect(io.said[0]).toContain('The goal needs a target such as `val_acc ≥ 0.85`');
    expect(h.emu.messageRequests).toEqual([]);
  });
});

describe('prompt monitors (the cron module\'s AgentRunner)', () => {
  it('runs the prompt with nobody to approve: reading works, changes are refused', async () => {
    const h = await setup();
    h.emu.enqueue(
      { kind: 'tool_use', calls: [{ name: 'job_status', input: {} }, { name: 'cancel_job', input: { job_id: '5' } }] },
      reply.text('Job 5 looks stuck; cancelling needs a person.'),
    );
    const r = await h.agent.promptRunner().run({ prompt: 'check my jobs', monitorId: 'm7', monitorName: 'nightly' });
    expect(r.text).toBe('Job 5 looks stuck; cancelling needs a person.');
    expect(r.costUsd).toBeGreaterThan(0);
    expect(h.services.calls.map((c) => c.method)).toEqual(['jobStatus']);
    expect(h.store.auditLog({ conversationId: 'cron:m7' }).map((a) => [a.tool, a.decision])).toEqual([['job_status', 'auto'], ['cancel_job', 'denied']]);
  });
});
