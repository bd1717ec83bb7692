/**
 * Pending approvals decided from the window (main/core/runtime/approvals.ts): the same broker the
 * Slack gateway asks through, so an approval is decided once wherever it is clicked first; the
 * Slack message's buttons give way to the outcome; the window's decision is audited. First over a
 * bare broker with a manual clock, then through the real gateway and the Slack emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { PendingApprovals } from '../../main/core/runtime/approvals.js';
import type { ApprovalSource } from '../../main/core/runtime/approvals.js';
import { APPROVE_ACTION, ApprovalBroker } from '../../main/core/slack/approvals.js';
import type { ApprovalMessage } from '../../main/core/slack/approvals.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { AuditRow } from '../../main/core/store/agent-store.js';
import { ManualClock } from '../fakes/manual-clock.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { ApiCall } from '../fakes/slack-emulator.js';
import { MemoryCron, MemoryJobs, MemoryUsage } from '../fakes/slack-ports.js';

function bare() {
  const clock = new ManualClock();
  const broker = new ApprovalBroker(clock);
  const shown: Array<{ message: ApprovalMessage; text: string }> = [];
  const audit: AuditRow[] = [];
  let source: ApprovalSource | null = { approvals: broker, showApprovalOutcome: async (message, text) => void shown.push({ message, text }) };
  const registry = new PendingApprovals({ source: () => source, audit: (row) => void audit.push(row), logger: createMemoryLogger(), clock });
  return { clock, broker, shown, audit, registry, detach: () => { source = null; } };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string; fix: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isRelayError(e)) return { code: e.code, message: e.message, fix: e.fix };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('pending approvals from the window', () => {
  it('lists what waits (summary, detail, who asked, when it expires) and decides it once: the outcome, the Slack message and the audit log', async () => {
    const { clock, broker, shown, audit, registry } = bare();
    let runs = 0;
    const a = broker.open({ summary: 'cancel job 7', detail: 'scancel 7', requestedBy: 'U0HUMAN001', ttlMs: 60_000, onApprove: async (by) => { runs++; return `Job 7 is cancelled (for ${by}).`; } });
    broker.placed(a.id, { channel: 'D0DM', ts: '1700000000.000100' });
    const b = broker.open({ summary: 'resubmit job 8', requestedBy: 'U0HUMAN001', ttlMs: 30_000 });
    expect(registry.list()).toEqual([
      { id: b.id, summary: 'resubmit job 8', detail: null, requestedBy: 'U0HUMAN001', expiresAt: clock.t + 30_000 },
      { id: a.id, summary: 'cancel job 7', detail: 'scancel 7', requestedBy: 'U0HUMAN001', expiresAt: clock.t + 60_000 },
    ]);

    const [first, second] = await Promise.allSettled([registry.decide(a.id, true, 'ada'), registry.decide(a.id, true, 'ada')]);
    expect(first).toEqual({ status: 'fulfilled', value: { approved: true, text: 'Approved in the HPC Relay window by ada: cancel job 7. Job 7 is cancelled (for window:ada).' } });
    expect(second.status).toBe('rejected');
    expect(runs).toBe(1);
    // Whoever waits on it (the agent, the cancel command) sees approved, by the window's user.
    expect(await a.outcome).toEqual({ approved: true, by: 'window:ada' });
    expect(registry.list().map((p) => p.id)).toEqual([b.id]);
    // The Slack message's buttons are replaced by the outcome (Slack text).
    expect(shown).toEqual([{ message: { channel: 'D0DM', ts: '1700000000.000100' }, text: 'Approved in the HPC Relay window by ada: cancel job 7. Job 7 is cancelled (for window:ada).' }]);
    expect(audit).toEqual([{
      at: clock.t, conversationId: 'window', loopId: null, tool: 'approval', input: 'cancel job 7\nscancel 7',
      output: 'Approved in the HPC Relay window by ada: cancel job 7. Job 7 is cancelled (for window:ada).', decision: 'approved', approvedBy: 'window:ada', isError: false,
    }]);

    // A Slack click after the window decided: told who decided, nothing runs again.
    expect(await broker.decide(a.id, true, 'U0HUMAN001')).toEqual({ kind: 'already', by: 'ada', approved: true, via: 'window' });
    const again = await refusal(registry.decide(a.id, false, 'ada'));
    expect(again).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
    expect(again.message).toMatch(/^This was already approved by ada in the HPC Relay window; nothing was done again\./);
    expect(runs).toBe(1);
    expect(audit).toHaveLength(1);
  });

  it('a deny resolves as denied; one decided in Slack first is refused at the window, naming the Slack user', async () => {
    const { broker, shown, audit, registry } = bare();
    const a = broker.open({ summary: 'Run `rm -rf ~/runs` on the login node', requestedBy: 'U0HUMAN001' });
    await expect(registry.decide(a.id, false, 'ada')).resolves.toEqual({ approved: false, text: 'Denied in the HPC Relay window by ada: Run `rm -rf ~/runs` on the login node.' });
    expect(await a.outcome).toEqual({ approved: false, by: 'window:ada', reason: 'denied' });
    // Never placed (the post failed): nothing to update in Slack, the decision stands.
    expect(shown).toEqual([]);
    expect(audit.map((r) => [r.decision, r.approvedBy])).toEqual([['denied', 'window:ada']]);

    const c = broker.open({ summary: 'cancel job 9', requestedBy: 'U0HUMAN001' });
    expect(await broker.decide(c.id, true, 'U0HUMAN001')).toMatchObject({ kind: 'done', approved: true });
    expect((await refusal(registry.decide(c.id, true, 'ada'))).message).toMatch(/^This was already approved by Slack user U0HUMAN001; nothing was done again\./);
    expect(audit).toHaveLength(1);
  });

  it('expiry: an expired approval leaves the list and cannot be decided, even before its timer fired', async () => {
    const { clock, broker, registry, audit } = bare();
    const a = broker.open({ summary: 'cancel job 7', requestedBy: 'U1', ttlMs: 60_000 });
    const b = broker.open({ summary: 'cancel job 8', requestedBy: 'U1', ttlMs: 120_000 });
    // Past a's expiry with its timer not yet run (a busy event loop): not listed, refused as expired.
    clock.advance(60_000, false);
    expect(registry.list().map((p) => p.id)).toEqual([b.id]);
    const late = await refusal(registry.decide(a.id, true, 'ada'));
    expect(late).toMatchObject({ code: 'APPROVAL_NOT_PENDING', message: expect.stringMatching(/^This approval expired; nothing was done\./) });
    expect(await a.outcome).toEqual({ approved: false, by: null, reason: 'expired' });
    // b's timer fires: gone, and named as expired afterwards.
    clock.advance(60_000);
    expect(registry.list()).toEqual([]);
    expect(await b.outcome).toEqual({ approved: false, by: null, reason: 'expired' });
    expect((await refusal(registry.decide(b.id, true, 'ada'))).message).toMatch(/^This was already expired; nothing was done again\./);
    expect(audit).toEqual([]);
  });

  it('refuses malformed and unknown ids, a bad name, and everything while no gateway runs', async () => {
    const { broker, registry, audit, detach } = bare();
    const a = broker.open({ summary: 'cancel job 7', requestedBy: 'U1' });
    for (const id of ['', 'short', '../../../etc/passwd', `${a.id}x`, `${a.id.slice(0, 21)}/`, 'A'.repeat(22)]) {
      expect(await refusal(registry.decide(id, true, 'ada')), id).toMatchObject({ code: 'APPROVAL_NOT_PENDING' });
    }
    for (const name of ['', '   ', 'x'.repeat(65), 'ada\nApproved by <@U0BOSS>']) {
      expect((await refusal(registry.decide(a.id, true, name))).code, JSON.stringify(name)).toBe('USAGE');
    }
    expect(broker.isPending(a.id)).toBe(true);
    detach();
    expect(registry.list()).toEqual([]);
    expect(await refusal(registry.decide(a.id, true, 'ada'))).toMatchObject({ code: 'APPROVAL_NOT_PENDING', message: expect.stringMatching(/not running/) });
    expect(broker.isPending(a.id)).toBe(true);
    expect(audit).toEqual([]);
  });

  it('decided at the window while its Slack post was on its way: the post, once placed, is given the outcome to show', async () => {
    const { broker, registry, shown } = bare();
    const a = broker.open({ summary: 'cancel job 7', requestedBy: 'U1' });
    await registry.decide(a.id, true, 'ada');
    expect(shown).toEqual([]);
    expect(broker.placed(a.id, { channel: 'D0DM', ts: '1.000100' })).toBe('Approved in the HPC Relay window by ada: cancel job 7.');
    // Once only; and never for one still pending or decided in Slack (the click replaces it there).
    expect(broker.placed(a.id, { channel: 'D0DM', ts: '1.000100' })).toBeUndefined();
    const b = broker.open({ summary: 'cancel job 8', requestedBy: 'U1' });
    expect(broker.placed(b.id, { channel: 'D0DM', ts: '1.000200' })).toBeUndefined();
    const c = broker.open({ summary: 'cancel job 9', requestedBy: 'U1' });
    await broker.decide(c.id, true, 'U1');
    expect(broker.placed(c.id, { channel: 'D0DM', ts: '1.000300' })).toBeUndefined();
  });

  it('a name with Slack markup is shown as text in Slack', async () => {
    const { broker, registry, shown } = bare();
    const a = broker.open({ summary: 'cancel job <7>', requestedBy: 'U1' });
    broker.placed(a.id, { responseUrl: 'https://hooks.slack.com/actions/T/1/x' });
    const r = await registry.decide(a.id, true, '<!channel> & co');
    expect(r.text).toBe('Approved in the HPC Relay window by <!channel> & co: cancel job <7>.');
    expect(shown[0]?.text).toBe('Approved in the HPC Relay window by &lt;!channel&gt; &amp; co: cancel job &lt;7&gt;.');
  });
});

describe('pending approvals through the Slack gateway (emulator)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });

  async function start() {
    const emu = await startSlackEmulator({ users: [{ id: 'U0HUMAN001', name: 'ada' }] });
    cleanups.push(() => emu.close());
    const jobs = new MemoryJobs();
    const gw = createSlackGateway({
      botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
      allowedUsers: () => [emu.defaultUserId], ports: { jobs, cron: new MemoryCron(), usage: new MemoryUsage() },
      clientPingTimeoutMs: 1000, reconnect: { baseMs: 50, maxMs: 500 },
    });
    cleanups.push(() => gw.stop());
    await gw.start();
    const audit: AuditRow[] = [];
    const registry = new PendingApprovals({ source: () => gw, audit: (row) => void audit.push(row), logger: createMemoryLogger() });
    return { emu, jobs, gw, registry, audit };
  }

  const textOf = (c: ApiCall): string => String(c.params.text ?? '');

  it('a cancel asked in a Slack DM shows in the window; approved there, it runs once, the Slack message shows the outcome, and a later Slack click is told who decided', async () => {
    const { emu, jobs, registry, audit } = await start();
    emu.sendDirectMessage({ text: 'cancel 4242' });
    const ask = await emu.waitForCall('chat.postMessage', (c) => textOf(c).startsWith('Approval needed'));
    const ts = String(ask.response.ts);
    const pending = await emu.waitFor(() => registry.list()[0]);
    expect(pending).toMatchObject({ summary: 'cancel job 4242', detail: null, requestedBy: emu.defaultUserId });

    await expect(registry.decide(pending.id, true, 'ada')).resolves.toEqual({ approved: true, text: 'Approved in the HPC Relay window by ada: cancel job 4242. Job 4242 is cancelled.' });
    expect(jobs.called('cancel')).toEqual([{ method: 'cancel', args: ['4242'] }]);
    expect(registry.list()).toEqual([]);
    // chat.update on the approval message: the buttons are gone, the outcome is there.
    const update = await emu.waitForCall('chat.update');
    expect(update.params).toMatchObject({ channel: emu.dmChannelFor(emu.defaultUserId), ts, text: 'Approved in the HPC Relay window by ada: cancel job 4242. Job 4242 is cancelled.' });
    const message = emu.messages(emu.dmChannelFor(emu.defaultUserId)).find((m) => m.ts === ts);
    expect(message?.edited).toBe(true);
    expect(JSON.stringify(message?.blocks)).not.toContain(APPROVE_ACTION);
    expect(audit.map((r) => [r.tool, r.decision, r.approvedBy])).toEqual([['approval', 'approved', 'window:ada']]);

    // The owner clicks the (stale) Approve button in Slack: told it was decided, nothing runs again.
    emu.sendButtonClick({ actionId: APPROVE_ACTION, value: pending.id, messageTs: ts });
    const told = await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('already'));
    expect(told.body).toMatchObject({ text: 'This was already approved by ada in the HPC Relay window; nothing was done again.', response_type: 'ephemeral', replace_original: false });
    expect(jobs.called('cancel')).toHaveLength(1);
  });

  it('a cancel asked with /hpc is replaced through its response_url when the window denies it', async () => {
    const { emu, jobs, registry } = await start();
    emu.sendSlashCommand({ text: 'cancel 4243' });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).startsWith('Approval needed'));
    const pending = await emu.waitFor(() => registry.list()[0]);
    await expect(registry.decide(pending.id, false, 'ada')).resolves.toMatchObject({ approved: false });
    const replaced = await emu.waitForResponseUrlPost((p) => p.body.replace_original === true);
    expect(replaced.body).toMatchObject({ text: 'Denied in the HPC Relay window by ada: cancel job 4243.' });
    expect(jobs.called('cancel')).toEqual([]);
  });
});
