import { describe, expect, it } from 'vitest';
import { costUsd, pricingFor } from '../../main/core/agent/pricing.js';
import { reply } from '../fakes/anthropic-emulator.js';
import { denyAll, harnessPerTest, type Harness } from './agent-harness.js';

const setup = harnessPerTest();

const WHERE = { channelId: 'D0ADA' };
const M = 1_000_000;
const tokens = (input: number, output: number) => ({ inputTokens: input, outputTokens: output, cacheCreationTokens: 0, cacheReadTokens: 0 });

function spend(h: Harness, usd: number, at = h.clock.now(), conversationId = 'slack:D0ADA:top'): void {
  h.store.recordCall({ conversationId, purpose: 'request', model: 'claude-sonnet-4-6', inputTokens: 1, outputTokens: 1, cacheCreationTokens: 0, cacheReadTokens: 0, costUsd: usd, fallbackPrice: false, at });
}

describe('pricing', () => {
  it('prices by family, older models by their own row, and unknown models at the dearest price', () => {
    expect(costUsd('claude-sonnet-4-5', tokens(M, M))).toBe(18);
    expect(costUsd('anthropic/claude-sonnet-4-6', tokens(M, M))).toBe(18);
    expect(costUsd('claude-opus-4-1-20250805', tokens(M, M))).toBe(90);
    expect(costUsd('claude-opus-4-20250514', tokens(M, M))).toBe(90);
    expect(costUsd('claude-opus-4-5', tokens(M, M))).toBe(30);
    expect(costUsd('claude-haiku-4-5-20251001', tokens(M, M))).toBe(6);
    expect(costUsd('claude-3-5-haiku-latest', tokens(M, M))).toBeCloseTo(4.8, 10);
    expect(pricingFor('claude-sonnet-4-6').fallback).toBe(false);
    expect(pricingFor('llama-3-70b')).toMatchObject({ fallback: true, pricing: { inputPerMTok: 15, outputPerMTok: 75 } });
    // Cache writes 1.25× input, cache reads 0.1× input.
    expect(costUsd('claude-sonnet-4-6', { inputTokens: 0, outputTokens: 0, cacheCreationTokens: M, cacheReadTokens: M })).toBeCloseTo(3 * 1.25 + 3 * 0.1, 10);
  });
});

describe('usage and the monthly budget', () => {
  it('records every call\'s tokens and cost per conversation, and reports the month', async () => {
    const h = await setup();
    h.emu.enqueue(
      { kind: 'tool_use', calls: [{ name: 'job_status', input: {} }], usage: { input_tokens: 1000, output_tokens: 200 } },
      { kind: 'text', text: 'Nothing running.', usage: { input_tokens: 1500, output_tokens: 100 } },
    );
    await h.agent.ask('anything running?', { conversationId: 'slack:D0ADA:top', where: WHERE, approver: denyAll() });
    // Noon on May 31 local time: the budget month is the local calendar month (monthStart), and 12:00 UTC
    // that day is already June 1 at UTC+12 and beyond (Auckland, Fiji, Kiribati).
    spend(h, 5, new Date(2026, 4, 31, 12).getTime(), 'slack:D0OLD:top'); // May: not this month
    const calls = h.store.calls('slack:D0ADA:top');
    expect(calls.map((c) => [c.purpose, c.inputTokens, c.outputTokens, c.model])).toEqual([['request', 1000, 200, 'claude-sonnet-4-6'], ['request', 1500, 100, 'claude-sonnet-4-6']]);
    expect(calls[0]?.costUsd).toBeCloseTo((1000 * 3 + 200 * 15) / M, 12);
    const report = h.agent.usageReport();
    expect(report).toMatchObject({ month: 'June 2026', budgetUsd: 20, inputTokens: 2500, outputTokens: 300, conversations: 1, calls: 2, pricedAs: 'sonnet', fallbackPrice: false });
    expect(report.monthUsd).toBeCloseTo((2500 * 3 + 300 * 15) / M, 12);
    expect(report.byConversation).toEqual([expect.objectContaining({ conversationId: 'slack:D0ADA:top', calls: 2 })]);
    expect(await h.agent.usage()).toEqual({ monthUsd: report.monthUsd, budgetUsd: 20, inputTokens: 2500, outputTokens: 300, conversations: 1 });
  });

  it('at the budget, nothing is sent to the model and the message says why and what to do', async () => {
    const h = await setup({ settings: { monthlyBudgetUsd: 2 } });
    spend(h, 2.0);
    const r = await h.agent.ask('train something', { conversationId: 'slack:D0ADA:top', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(0);
    expect(r.ok).toBe(false);
    expect(r.text).toBe("The agent's monthly budget is used up: $2.00 of $2.00 spent in June 2026. Nothing was sent to the model. Raise it with `hpc-relay config set llm.monthlyBudgetUsd 10`, or wait until it resets on July 1.");
  });

  it('a call that would pass the budget is refused before it is made', async () => {
    const h = await setup({ settings: { monthlyBudgetUsd: 1 } });
    spend(h, 0.999);
    const r = await h.agent.ask('x'.repeat(2000), { conversationId: 'slack:D0ADA:top', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(0);
    expect(r.text).toMatch(/^This would go over the agent's monthly budget: \$1\.00 of \$1\.00 spent in June 2026, and this call alone is about (< \$0\.01|\$0\.\d\d)\. Nothing was sent to the model\./);
  });

  it('the budget is checked before every call of a request, and a new month starts afresh', async () => {
    const h = await setup({ settings: { monthlyBudgetUsd: 0.05 } });
    h.emu.enqueue({ kind: 'tool_use', calls: [{ name: 'job_status', input: {} }], usage: { input_tokens: 10_000, output_tokens: 2_000 } });
    const r = await h.agent.ask('status?', { conversationId: 'slack:D0ADA:top', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(1);
    expect(r).toMatchObject({ ok: false, modelCalls: 1 });
    expect(r.text).toContain("monthly budget is used up: $0.06 of $0.05");
    h.clock.t = Date.UTC(2026, 6, 2, 12);
    h.emu.enqueue(reply.text('Nothing is running.'));
    const next = await h.agent.ask('and now?', { conversationId: 'slack:D0ADA:top', where: WHERE, approver: denyAll() });
    expect(next).toMatchObject({ ok: true, text: 'Nothing is running.' });
  });
});

describe('model API failures', () => {
  it('429 and 500 are retried with backoff (retry-after honoured), then the answer comes', async () => {
    const h = await setup();
    h.emu.enqueue(reply.error(429, { retryAfterSec: 2 }), reply.error(500), reply.text('Here.'));
    const r = await h.agent.ask('hi', { conversationId: 'c1', where: WHERE, approver: denyAll() });
    expect(r).toMatchObject({ ok: true, text: 'Here.' });
    expect(h.emu.messageRequests.map((q) => q.status)).toEqual([429, 500, 200]);
    expect(h.waits).toEqual([2000, 20]);
    expect(h.store.calls('c1')).toHaveLength(1);
  });

  it('429 that does not clear: retries run out, then one clear sentence and nothing recorded as spent', async () => {
    const h = await setup({ retries: 3 });
    h.emu.enqueue(reply.error(429), reply.error(429), reply.error(429), reply.error(429));
    const r = await h.agent.ask('hi', { conversationId: 'c1', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(4);
    expect(h.waits).toEqual([10, 20, 40]);
    expect(r).toMatchObject({ ok: false, text: 'The model API is rate-limiting this key (HTTP 429) (tried 4 times); nothing was done. Ask again in a minute.' });
    expect(h.store.calls('c1')).toEqual([]);
  });

  it('500s that do not clear say the API is failing; overloaded (529) too', async () => {
    const h = await setup({ retries: 1 });
    h.emu.enqueue(reply.error(500), reply.error(529));
    const r = await h.agent.ask('hi', { conversationId: 'c1', where: WHERE, approver: denyAll() });
    expect(r.text).toBe('The model API is failing (HTTP 529: Overloaded) (tried 2 times); nothing was done. Ask again in a few minutes; https://status.anthropic.com says whether it is down.');
  });

  it('a refused key is not retried and says how to set one', async () => {
    const h = await setup();
    h.key.value = 'sk-ant-api03-not-the-right-key-000000';
    const r = await h.agent.ask('hi', { conversationId: 'c1', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(1);
    expect(r.text).toBe('The model API refused the API key (HTTP 401). Set a valid key with `hpc-relay secrets set anthropic-api-key`.');
  });

  it('a hung request times out, is retried, and then says the API did not answer', async () => {
    const h = await setup({ retries: 1, timeoutMs: 200 });
    h.emu.enqueue(reply.hang(), reply.hang());
    const r = await h.agent.ask('hi', { conversationId: 'c1', where: WHERE, approver: denyAll() });
    expect(h.emu.messageRequests).toHaveLength(2);
    expect(r.text).toBe('The model API did not answer in time (tried 2 times); nothing was done. Check the network (and llm.baseUrl if you set one), then ask again.');
  });
});
