/**
 * The Slack part of the hostile input corpus, table-driven, through the real gateway (Bolt in
 * Socket Mode against the emulator) with in-memory ports that record every call:
 * - every message text as a DM, as `/hpc TEXT` and as `!TEXT` in a followed thread: one answer
 *   each (one line unless it is a list), matching the corpus, no broadcast ping, and only the port
 *   call the text means (none for everything that is not a valid command);
 * - events from users not in slack.allowedUsers: refused, nothing runs;
 * - forged, replayed and expired button clicks: refused with a sentence, nothing is cancelled
 *   until the owner's own click, and then only once;
 * - nothing is lost: a legitimate command sent after all of them is still answered.
 * The same texts go to the real job service and the testbed in test/integration/hostile-slack.test.ts.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL_TEXT } from '../../main/core/slack/access.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import type { AgentHandler, SlackPorts } from '../../main/core/slack/jobs-api.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import type { MemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { MemoryCron, MemoryJobs, MemoryUsage, ScriptedAgent } from '../fakes/slack-ports.js';
import {
  CHANNEL_PING, SURFACES, asSlackSends, caseText, clickCases, fill, fillAll, forSurface, slackTextCases, strangerCases, textOf,
} from '../helpers/hostile-corpus.js';
import type { ClickCase, Surface } from '../helpers/hostile-corpus.js';
import { GENERAL, SlackDriver, approvalIdOf, tamper } from '../helpers/hostile-slack.js';
import { makeHome } from '../helpers/temp-home.js';

const OWNER = 'U0HUMAN001';
const TEXTS = slackTextCases();
const STRANGERS = strangerCases();
const CLICKS = clickCases();
// Nothing runs on a cluster here; the marker paths only make the texts what they are on the testbed.
const MARKERS = makeHome('hostile-slack-unit');

interface Rig {
  emu: SlackEmulator;
  gw: SlackGateway;
  jobs: MemoryJobs;
  logger: MemoryLogger;
  driver: SlackDriver;
}

async function rig(ports: (jobs: MemoryJobs) => SlackPorts): Promise<Rig> {
  const users = [{ id: OWNER, name: 'ada' }, ...[...STRANGERS, ...CLICKS].filter((c) => c.user.startsWith('U') && c.user !== 'owner').map((c) => ({ id: c.user, name: c.id }))];
  // The lower-case look-alike of the owner's id is a user of its own.
  users.push({ id: 'u0human001', name: 'lookalike' });
  const emu = await startSlackEmulator({ users });
  const logger = createMemoryLogger();
  const jobs = new MemoryJobs();
  const gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger,
    allowedUsers: () => [OWNER], ports: ports(jobs), clientPingTimeoutMs: 5000, reconnect: { baseMs: 50, maxMs: 500 },
  });
  await gw.start();
  return { emu, gw, jobs, logger, driver: new SlackDriver(emu) };
}

async function close(r: Rig | undefined): Promise<void> {
  await r?.gw.stop();
  await r?.emu.close();
}

/** Own keys in order, so a `__proto__` parameter is compared as the data it is. */
const entries = (o: unknown): Array<[string, unknown]> => Object.entries(o as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));

describe('hostile Slack text: one answer each, on every surface, and nothing else runs', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig((jobs) => ({ jobs, cron: new MemoryCron(), usage: new MemoryUsage() }));
  });
  afterAll(() => close(r));

  describe.each(SURFACES)('as %s', (surface: Surface) => {
    it.each(TEXTS.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      const before = r.jobs.calls.length;
      const text = asSlackSends(caseText(c, MARKERS), c.wire);
      const answer = await r.driver.ask(surface, text);
      const expected = forSurface(c.reply, surface, '');
      expect(answer.text, `${c.why}: ${JSON.stringify(answer.text.slice(0, 300))}`).toMatch(new RegExp(expected, 'u'));
      if (forSurface(c.oneLine, surface, true)) {
        expect(answer.text.split('\n'), 'one line').toHaveLength(1);
        expect(answer.text.length).toBeLessThan(400);
      }
      expect(answer.text).not.toMatch(CHANNEL_PING);

      const calls = r.jobs.calls.slice(before);
      const wanted = c.submit ? ['submit'] : (c.calls ?? []);
      expect(calls.map((x) => x.method)).toEqual(wanted);
      if (c.submit) {
        const [template, params] = calls[0]?.args ?? [];
        expect(template).toBe(c.submit.template);
        expect(entries(params)).toEqual(entries(fillAll(c.submit.params, MARKERS, c.id)));
      }
    });

    it('answered every one with exactly one message', () => {
      // Each surface's answers so far: one per case (plus the thread's opening pong).
      const dm = r.emu.dmChannelFor(OWNER);
      const slashAnswers = r.emu.responseUrlPosts.length;
      const dmAnswers = r.emu.callsTo('chat.postMessage').filter((x) => x.params.channel === dm).length;
      const threadAnswers = r.emu.callsTo('chat.postMessage').filter((x) => x.params.channel === GENERAL).length;
      const done = SURFACES.indexOf(surface) + 1;
      expect(dmAnswers).toBe(TEXTS.length);
      expect(slashAnswers).toBe(done >= 2 ? TEXTS.length : 0);
      expect(threadAnswers).toBe(done >= 3 ? TEXTS.length + 1 : 0);
    });
  });

  it('nothing is lost: after all of that, ping and status are answered', async () => {
    expect((await r.driver.ask('dm', 'ping')).text).toBe('pong');
    expect((await r.driver.ask('dm', 'status')).text).toMatch(/^\*\d+ jobs\* \(/);
    expect((await r.driver.ask('slash', 'ping')).text).toBe('pong');
    expect((await r.driver.ask('thread', 'ping')).text).toBe('pong');
    expect(r.logger.atLeast('error')).toEqual([]);
  });
});

describe('events from users not in slack.allowedUsers', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig((jobs) => ({ jobs }));
    await r.driver.followThread();
  });
  afterAll(() => close(r));

  it.each(STRANGERS.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const from = r.emu.calls.length;
    const before = r.jobs.calls.length;
    const refusalsLogged = r.logger.entries.filter((e) => e.msg.startsWith('refused a Slack request')).length;
    const text = asSlackSends(caseText(c, MARKERS));
    const root = await r.driver.followThread();
    if (c.surface === 'slash') {
      const answer = await r.driver.slash(text, c.user);
      expect(answer).toMatchObject({ text: REFUSAL_TEXT, via: 'ack' });
    } else {
      if (c.surface === 'dm') r.emu.sendDirectMessage({ text, user: c.user });
      else if (c.surface === 'mention') r.emu.sendAppMention({ text, user: c.user, channel: GENERAL });
      else if (c.surface === 'thread') r.emu.sendEvent({ type: 'message', channel: GENERAL, channel_type: 'channel', user: c.user, text, thread_ts: root });
      else r.emu.sendEvent({ type: 'message', subtype: 'bot_message', bot_id: c.user, channel: r.emu.dmChannelFor(OWNER), channel_type: 'im', text });
      if (c.reply === 'refusal') {
        const answer = await r.driver.ephemeralFor(c.user, from);
        expect(answer.text).toBe(REFUSAL_TEXT);
        expect(answer.call?.params.channel).toBe(c.surface === 'dm' ? r.emu.dmChannelFor(c.user) : GENERAL);
      }
    }
    const said = await r.driver.quietSince(from);
    // The refusal (if any) is the only thing said, only to the stranger, and it is logged.
    expect(said.map((x) => [x.method, x.params.user])).toEqual(c.reply === 'refusal' && c.surface !== 'slash' ? [['chat.postEphemeral', c.user]] : []);
    expect(r.jobs.calls.slice(before)).toEqual([]);
    const logged = r.logger.entries.filter((e) => e.msg.startsWith('refused a Slack request')).length - refusalsLogged;
    expect(logged).toBe(c.reply === 'refusal' ? 1 : 0);
  });

  it('the owner is still answered afterwards', async () => {
    expect((await r.driver.ask('dm', 'status')).text).toMatch(/^\*2 jobs\*/);
  });
});

describe('forged, replayed and expired button clicks', () => {
  let r: Rig;
  let agent: ScriptedAgent;
  const values: Record<string, string> = {};
  let askTs = '';
  beforeAll(async () => {
    // An agent that asks for an approval living 1 ms: the expired case.
    agent = new ScriptedAgent(async (_req, io) => {
      const outcome = await io.requestApproval({ summary: 'delete ~/scratch/old', ttlMs: 1 });
      await io.say(`outcome: ${outcome.approved ? 'approved' : outcome.reason}`);
    });
    r = await rig((jobs) => ({ jobs, agent: agent as AgentHandler }));
    const dm = r.emu.dmChannelFor(OWNER);
    const from = r.emu.calls.length;
    r.emu.sendDirectMessage({ text: 'expire this' });
    const expiredAsk = await r.emu.waitFor(() => r.emu.calls.slice(from).find((c) => c.method === 'chat.postMessage' && String(c.params.text).startsWith('Approval needed: delete')));
    await r.emu.waitFor(() => r.emu.calls.slice(from).find((c) => c.method === 'chat.postMessage' && c.params.text === 'outcome: expired'));
    const ask = await r.driver.ask('dm', 'cancel 4242');
    expect(ask.text).toBe('Approval needed: cancel job 4242');
    askTs = String(ask.call?.response.ts);
    Object.assign(values, {
      APPROVAL: approvalIdOf(ask.call!), JOB: '4242', OTHER_JOB: '4243', EXPIRED: approvalIdOf(expiredAsk), MARKER: `${MARKERS}/clicks`,
    });
    values.APPROVAL_TAMPERED = tamper(values.APPROVAL ?? '');
    expect(dm).toBeTruthy();
  });
  afterAll(() => close(r));

  async function click(c: ClickCase): Promise<string> {
    const user = c.user === 'owner' ? OWNER : c.user;
    const value = fill(textOf(c.value), values);
    const answer = await r.driver.click({ actionId: c.actionId, value, user, messageTs: askTs, channel: r.emu.dmChannelFor(OWNER) });
    return answer.text;
  }

  const expectReply = (c: ClickCase, text: string): void => {
    if (c.reply === 'refusal') expect(text, c.why).toBe(REFUSAL_TEXT);
    else expect(text, c.why).toMatch(new RegExp(c.reply, 'u'));
  };

  it.each(CLICKS.filter((c) => c.phase === 'live').map((c) => [c.id, c] as const))('live approval: %s', async (_id, c) => {
    expectReply(c, await click(c));
    expect(r.jobs.calls).toEqual([]);
  });

  it('the owner’s own click cancels the job, once', async () => {
    const answer = await r.driver.click({ actionId: 'hpc_approve', value: values.APPROVAL ?? '', user: OWNER, messageTs: askTs, channel: r.emu.dmChannelFor(OWNER) });
    expect(answer.text).toBe(`Approved by <@${OWNER}>: cancel job 4242. Job 4242 is cancelled.`);
    expect(r.jobs.called('cancel')).toEqual([{ method: 'cancel', args: ['4242'] }]);
  });

  it.each(CLICKS.filter((c) => c.phase !== 'live').map((c) => [`${c.phase}: ${c.id}`, c] as const))('%s', async (_id, c) => {
    expectReply(c, await click(c));
    expect(r.jobs.called('cancel')).toHaveLength(1);
  });

  it('every forged click was logged as refused, and nothing but the one cancel ran', () => {
    const refused = r.logger.entries.filter((e) => e.level === 'warn' && /^refused/.test(e.msg));
    expect(refused).toHaveLength(CLICKS.length);
    expect(r.jobs.calls).toEqual([{ method: 'cancel', args: ['4242'] }]);
  });
});

it('the marker directory of this file stays empty (nothing here runs anything)', () => {
  expect(fs.readdirSync(MARKERS)).toEqual([]);
});
