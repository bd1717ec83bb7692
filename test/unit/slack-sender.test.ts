import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { SlackSender } from '../../main/core/slack/sender.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(registry = new SecretRegistry()): Promise<{ emu: SlackEmulator; sender: SlackSender }> {
  const emu = await startSlackEmulator({ channels: [{ id: 'C0GENERAL01', name: 'general' }, { id: 'C0OTHER0001', name: 'other' }] });
  cleanups.push(() => emu.close());
  const client = new webApi.WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  const sender = new SlackSender({ client, registry, logger: createMemoryLogger(), baseBackoffMs: 50, maxBackoffMs: 200 });
  cleanups.push(() => sender.stop(1000));
  return { emu, sender };
}

describe('SlackSender', () => {
  it('retries Slack 5xx and network-ish failures with backoff until delivered', async () => {
    const { emu, sender } = await setup();
    emu.failNext('chat.postMessage', { kind: 'http', status: 503, body: 'upstream' }, 2);
    emu.failNext('chat.postMessage', { kind: 'error', error: 'internal_error' }, 1);
    const r = await sender.post({ channel: 'C0GENERAL01', text: 'hello' });
    expect(r.ts).toMatch(/^\d+\.\d{6}$/);
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200, 200]);
    expect(emu.callsTo('chat.postMessage').map((c) => c.response.ok)).toEqual([false, false, false, true]);
    expect(sender.stats).toMatchObject({ sent: 1, retried: 3, failed: 0, pending: 0 });
  });

  it('fails for good with a coded error that names a missing scope', async () => {
    const { emu, sender } = await setup();
    emu.failNext('files.getUploadURLExternal', { kind: 'error', error: 'missing_scope', extra: { needed: 'files:write', provided: 'chat:write' } });
    const e = await sender.upload({ channelId: 'C0GENERAL01', filename: 'x.png', bytes: Buffer.from('x') }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'SLACK_MISSING_SCOPE', message: expect.stringContaining('files:write') });
    await expect(sender.post({ channel: 'C0NOSUCH001', text: 'x' })).rejects.toMatchObject({ code: 'SLACK_CHANNEL_NOT_FOUND' });
  });

  it('keeps order within a conversation through a 429, and waits exactly as long as asked', async () => {
    const { emu, sender } = await setup();
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 });
    const t0 = Date.now();
    const sent = await Promise.all(['one', 'two', 'three'].map((text) => sender.post({ channel: 'C0GENERAL01', text })));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(2500);
    expect(emu.messages('C0GENERAL01').map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(sent.map((s) => s.ts)).toEqual([...sent.map((s) => s.ts)].sort());
  });

  it('stop(): waits for the queue up to the deadline, then fails the rest with SLACK_STOPPED (never silently)', async () => {
    const { emu, sender } = await setup();
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 30 });
    const stuck = sender.post({ channel: 'C0GENERAL01', text: 'stuck' }).catch((e: unknown) => e);
    const queued = sender.post({ channel: 'C0GENERAL01', text: 'behind it' }).catch((e: unknown) => e);
    await emu.waitForCall('chat.postMessage');
    const t0 = Date.now();
    await sender.stop(300);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await stuck).toMatchObject({ code: 'SLACK_STOPPED' });
    expect(await queued).toMatchObject({ code: 'SLACK_STOPPED' });
    await expect(sender.post({ channel: 'C0GENERAL01', text: 'late' })).rejects.toMatchObject({ code: 'SLACK_STOPPED' });
    expect(emu.messages('C0GENERAL01')).toHaveLength(0);
  });

  it('reconcile: after a failure whose outcome is unknown it looks before re-sending; a 429 is re-sent without looking', async () => {
    const { emu, sender } = await setup();
    // A 503 (did Slack take it?): the lookup finds the message, nothing is sent again.
    emu.failNext('chat.postMessage', { kind: 'http', status: 503 });
    const looked: string[] = [];
    const found = await sender.post({ channel: 'C0GENERAL01', text: 'once' }, { reconcile: async () => { looked.push('a'); return { channel: 'C0GENERAL01', ts: '1700000000.000100' }; } });
    expect(found).toEqual({ channel: 'C0GENERAL01', ts: '1700000000.000100' });
    expect(looked).toEqual(['a']);
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503]);
    // The lookup finds nothing: sent again.
    emu.failNext('chat.postMessage', { kind: 'error', error: 'internal_error' });
    const again = await sender.post({ channel: 'C0GENERAL01', text: 'twice' }, { reconcile: async () => { looked.push('b'); return undefined; } });
    expect(again.ts).toMatch(/^\d+\.\d{6}$/);
    expect(looked).toEqual(['a', 'b']);
    // A 429 means Slack took nothing: waited out and re-sent, no lookup.
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 0 });
    await sender.post({ channel: 'C0GENERAL01', text: 'limited' }, { reconcile: async () => { looked.push('c'); return undefined; } });
    expect(looked).toEqual(['a', 'b']);
    // A lookup that fails fails the call (nothing is sent blindly).
    emu.failNext('chat.postMessage', { kind: 'http', status: 502 });
    await expect(sender.post({ channel: 'C0GENERAL01', text: 'unknown' }, { reconcile: async () => { throw new Error('lookup refused'); } })).rejects.toThrow('lookup refused');
    expect(emu.messages('C0GENERAL01').map((m) => m.text)).toEqual(['twice', 'limited']);
    expect(sender.stats).toMatchObject({ pending: 0 });
  });

  it('redacts text, blocks and upload titles, not the file bytes', async () => {
    const registry = new SecretRegistry();
    registry.add('s3cr3t-value-123');
    const { emu, sender } = await setup(registry);
    await sender.post({ channel: 'C0GENERAL01', text: 'a s3cr3t-value-123 b', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'xoxb-99999999-abcdefgh' } }] });
    await sender.upload({ channelId: 'C0GENERAL01', filename: 'f.png', title: 'xapp-1-AAAA-BBBBBBBB', bytes: Buffer.from('png') });
    const m = emu.messages('C0GENERAL01')[0]!;
    expect(m.text).toBe('a [redacted] b');
    expect(JSON.stringify(m.blocks)).toContain('[redacted]');
    expect(JSON.stringify(m.blocks)).not.toContain('xoxb-');
    expect(emu.uploads[0]!.title).toBe('[redacted]');
    expect(emu.uploads[0]!.bytes!.toString()).toBe('png');
  });
});
