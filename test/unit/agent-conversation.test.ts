import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_SYSTEM } from '../../main/core/agent/prompts.js';
import { toolSpecs } from '../../main/core/agent/tools.js';
import { appendUser, applySummary, chooseCut, cutPoints, elideToolResults, repairHistory, type Turn } from '../../main/core/agent/conversation.js';
import { reply } from '../fakes/anthropic-emulator.js';
import { denyAll, harness, requestText, type Harness } from './agent-harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** True when every tool_result answers a tool_use of the assistant turn right before it, and every tool_use is answered. */
function pairsIntact(h: readonly Turn[]): boolean {
  for (let i = 0; i < h.length; i++) {
    const m = h[i];
    if (!m) return false;
    const blocks = typeof m.content === 'string' ? [] : m.content;
    const uses = m.role === 'assistant' ? blocks.flatMap((b) => (b.type === 'tool_use' ? [b.id] : [])) : [];
    const next = h[i + 1];
    const nextResults = next && next.role === 'user' && typeof next.content !== 'string' ? next.content.flatMap((b) => (b.type === 'tool_result' ? [b.tool_use_id] : [])) : [];
    if (uses.some((id) => !nextResults.includes(id))) return false;
    const results = m.role === 'user' ? blocks.flatMap((b) => (b.type === 'tool_result' ? [b.tool_use_id] : [])) : [];
    const prev = h[i - 1];
    const prevUses = prev && prev.role === 'assistant' && typeof prev.content !== 'string' ? prev.content.flatMap((b) => (b.type === 'tool_use' ? [b.id] : [])) : [];
    if (results.some((id) => !prevUses.includes(id))) return false;
  }
  return h[0]?.role === 'user';
}

const user = (text: string): Turn => ({ role: 'user', content: [{ type: 'text', text }] });
const call = (id: string): Turn => ({ role: 'assistant', content: [{ type: 'text', text: 'looking' }, { type: 'tool_use', id, name: 'job_status', input: {} }] });
const result = (id: string, text = 'x'.repeat(100)): Turn => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: text }] });
const answer = (text: string): Turn => ({ role: 'assistant', content: [{ type: 'text', text }] });

describe('conversation history rules', () => {
  const history: Turn[] = [
    user('a'), call('t1'), result('t1'), call('t2'), result('t2'), answer('done a'),
    user('b'), call('t3'), result('t3'), answer('done b'),
    user('c'), call('t4'), result('t4'),
  ];

  it('cuts only at a person\'s message, so no tool_use/tool_result pair is split', () => {
    expect(cutPoints(history)).toEqual([6, 10]);
    for (const keep of [0, 100, 600, 1200, 100_000]) {
      const cut = chooseCut(history, keep);
      expect(cut === null || cutPoints(history).includes(cut)).toBe(true);
      if (cut !== null) expect(pairsIntact(applySummary(history, cut, 'summary'))).toBe(true);
    }
    expect(chooseCut(history, 0)).toBe(10);
    expect(chooseCut(history, 100_000)).toBe(6);
    expect(chooseCut([user('only'), call('t'), result('t')], 10)).toBeNull();
  });

  it('puts the summary in front of the first kept message', () => {
    const out = applySummary(history, 10, 'job 7 ran');
    expect(out[0]).toEqual({ role: 'user', content: [{ type: 'text', text: expect.stringContaining('job 7 ran') }, { type: 'text', text: 'c' }] });
    expect(out).toHaveLength(3);
  });

  it('shortens old tool outputs in place, keeping the last ones and every pair', () => {
    const long = [user('a'), call('t1'), result('t1', 'y'.repeat(5000)), call('t2'), result('t2', 'z'.repeat(5000))];
    const out = elideToolResults(long, 1);
    expect(pairsIntact(out)).toBe(true);
    expect(JSON.stringify(out[2])).toContain('output elided');
    expect(JSON.stringify(out[4])).toContain('z'.repeat(5000));
  });

  it('repairs a history whose last tool call never got its result, and merges consecutive user turns', () => {
    const broken: Turn[] = [user('cancel 5'), call('t9')];
    const fixed = repairHistory(broken);
    expect(pairsIntact(fixed)).toBe(true);
    appendUser(fixed, [{ type: 'text', text: 'well?' }]);
    expect(fixed).toHaveLength(3);
    expect(fixed[2]?.content).toHaveLength(2);
  });
});

describe('compression near the context limit (emulator validates every request like the API)', () => {
  it('summarises older turns with one model call and carries on; the summary is what the model sees next', async () => {
    const base = AGENT_SYSTEM.length + JSON.stringify(toolSpecs()).length;
    const h: Harness = await harness({ contextTokens: Math.ceil((base + 3000) / (4 * 0.7)) });
    cleanups.push(() => h.close());
    h.services.logs.set('1', `epoch=3 val_acc=0.50\n${'.'.repeat(1400)}`);
    h.services.logs.set('2', `epoch=9 val_acc=0.80\n${'.'.repeat(1400)}`);
    h.emu.enqueue(
      reply.toolUse('tail_log', { job_id: '1' }), reply.text('Job 1 is at epoch 3, val_acc 0.50.'),
      reply.toolUse('tail_log', { job_id: '2' }),
      reply.text('Job 1 reached epoch 3 with val_acc 0.50 (user asked about it first).'),
      reply.text('Job 2 is at epoch 9, val_acc 0.80.'),
      reply.text('Job 1 had 0.50.'),
    );
    const where = { channelId: 'C1', threadTs: '1.1' };
    await h.agent.ask('how is job 1?', { conversationId: 'conv', where, approver: denyAll() });
    const r = await h.agent.ask('and job 2?', { conversationId: 'conv', where, approver: denyAll() });
    expect(r).toMatchObject({ ok: true, text: 'Job 2 is at epoch 9, val_acc 0.80.', modelCalls: 3 });

    const [, , , summaryReq, afterReq] = h.emu.messageRequests;
    expect(summaryReq?.body?.system).toContain('You summarise a conversation');
    expect(summaryReq?.body?.tools).toBeUndefined();
    expect(requestText(summaryReq?.body)).toContain('how is job 1?');
    expect(afterReq?.status).toBe(200);
    const msgs = afterReq?.body?.messages as Turn[];
    expect(pairsIntact(msgs)).toBe(true);
    expect(JSON.stringify(msgs[0])).toContain('<conversation-summary>');
    expect(JSON.stringify(msgs[0])).toContain('Job 1 reached epoch 3 with val_acc 0.50');
    expect(JSON.stringify(msgs)).not.toContain('how is job 1?');
    expect(h.store.calls('conv').map((c) => c.purpose)).toEqual(['request', 'request', 'request', 'compress', 'request']);
    expect(h.store.conversation('conv')?.compressions).toBe(1);

    // The compressed conversation survives a restart and stays valid.
    const again = await h.restart().ask('what did job 1 have?', { conversationId: 'conv', where, approver: denyAll() });
    expect(again.text).toBe('Job 1 had 0.50.');
    expect(h.emu.messageRequests.at(-1)?.status).toBe(200);
  });

  it('with no older turn to cut (one long request), old tool outputs are shortened instead, without a model call', async () => {
    const base = AGENT_SYSTEM.length + JSON.stringify(toolSpecs()).length;
    const h: Harness = await harness({ contextTokens: Math.ceil((base + 4000) / (4 * 0.7)) });
    cleanups.push(() => h.close());
    for (const id of ['1', '2', '3', '4']) h.services.logs.set(id, `job ${id}\n${'#'.repeat(1500)}`);
    h.emu.enqueue(
      reply.toolUse('tail_log', { job_id: '1' }), reply.toolUse('tail_log', { job_id: '2' }), reply.toolUse('tail_log', { job_id: '3' }),
      reply.toolUse('tail_log', { job_id: '4' }), reply.text('All four are running.'),
    );
    const r = await h.agent.ask('check jobs 1 to 4', { conversationId: 'conv', where: { channelId: 'C1' }, approver: denyAll() });
    expect(r.text).toBe('All four are running.');
    expect(h.emu.messageRequests.every((q) => q.status === 200)).toBe(true);
    expect(h.store.calls('conv').map((c) => c.purpose)).toEqual(['request', 'request', 'request', 'request', 'request']);
    const last = h.emu.messageRequests.at(-1)?.body?.messages as Turn[];
    expect(pairsIntact(last)).toBe(true);
    expect(JSON.stringify(last)).toContain('output elided to save context');
    expect(JSON.stringify(last)).toContain('#'.repeat(1500));
  });
});
