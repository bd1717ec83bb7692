/**
 * The Slack part of the hostile input corpus end to end: the real gateway (Bolt, Socket Mode,
 * emulator) over the real job service, templates and SSH session to the testbed's SLURM.
 * - Every hostile text as a DM gets its one answer; the valid submits run as jobs that print each
 *   value exactly as typed, and a marker directory the cluster user can write to stays empty.
 * - Strangers (DM, mention, thread, /hpc, another bot) are refused and submit nothing.
 * - Forged and replayed clicks on a real cancel approval cancel nothing; the owner's click does, once.
 * - Nothing is lost: afterwards ping and status are answered, and status lists every job.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REFUSAL_TEXT } from '../../main/core/slack/access.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import {
  CHANNEL_PING, asSlackSends, caseText, clickCases, fill, forSurface, slackTextCases, strangerCases, textOf, withMarker,
} from '../helpers/hostile-corpus.js';
import { jobsPort } from '../helpers/hostile-logs.js';
import { GENERAL, SlackDriver, approvalIdOf, tamper } from '../helpers/hostile-slack.js';
import { allFinal, hostileBed, isSubsequence, markersLeft, until } from '../helpers/hostile-testbed.js';
import type { HostileBed } from '../helpers/hostile-testbed.js';

const tb = inject('testbed');
const OWNER = 'U0HUMAN001';
const TEXTS = slackTextCases();
const STRANGERS = strangerCases();
const CLICKS = clickCases().filter((c) => c.phase !== 'expired');

let bed: HostileBed;
let emu: SlackEmulator;
let gw: SlackGateway;
let driver: SlackDriver;
const submitted: string[] = [];

beforeAll(async () => {
  bed = await hostileBed(tb, 'slack');
  const users = [{ id: OWNER, name: 'ada' }, { id: 'u0human001', name: 'lookalike' }, ...[...STRANGERS, ...CLICKS].filter((c) => /^U/.test(c.user)).map((c) => ({ id: c.user, name: c.id }))];
  emu = await startSlackEmulator({ users });
  gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), registry: bed.core.registry,
    allowedUsers: () => [OWNER], ports: { jobs: jobsPort(bed.jobs) },
  });
  await gw.start();
  driver = new SlackDriver(emu, 60_000);
});

afterAll(async () => {
  await gw?.stop();
  await emu?.close();
  await bed?.close();
});

describe('hostile Slack input against the real job service and the testbed', () => {
  it('each hostile text gets its one answer; the submits print every value literally; no marker appears', async () => {
    const runs: Array<{ id: string; jobId: string; output: string[] }> = [];
    for (const c of TEXTS) {
      const answer = await driver.ask('dm', asSlackSends(caseText(c, bed.markers), c.wire));
      const want = c.replyCluster ?? forSurface(c.reply, 'dm', '');
      expect(answer.text, `${c.id}: ${c.why}`).toMatch(new RegExp(want, 'u'));
      if (forSurface(c.oneLine, 'dm', true)) expect(answer.text.split('\n'), c.id).toHaveLength(1);
      expect(answer.text).not.toMatch(CHANNEL_PING);
      if (c.submit && c.replyCluster === undefined) {
        const jobId = /as job (\d+)/.exec(answer.text)?.[1];
        expect(jobId, c.id).toBeDefined();
        runs.push({ id: c.id, jobId: jobId ?? '', output: (c.output ?? []).map((l) => withMarker(l, bed.markers, c.id)) });
      }
    }
    expect(runs.length).toBeGreaterThanOrEqual(10);
    submitted.push(...runs.map((r) => r.jobId));
    // Only the valid submits reached sbatch.
    expect(bed.cluster.programs.filter((p) => p === 'sbatch')).toHaveLength(runs.length);

    await allFinal(bed.jobs, runs.map((r) => r.jobId));
    for (const r of runs) {
      const out = (await bed.jobs.tail(r.jobId, 200)).lines;
      expect(bed.jobs.store.get(r.jobId), `${r.id}: ${out.join('\n')}`).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect(isSubsequence(r.output, out), `${r.id} printed:\n${out.join('\n')}\nexpected, in order:\n${r.output.join('\n')}`).toBe(true);
      expect(out.at(-1)).toBe('done');
    }
    expect(markersLeft(bed.markers)).toEqual([]);
  }, 240_000);

  it('users outside the allowlist are refused and submit nothing', async () => {
    const root = await driver.followThread();
    const sbatchBefore = bed.cluster.programs.filter((p) => p === 'sbatch').length;
    const jobsBefore = bed.jobs.store.list().length;
    for (const c of STRANGERS) {
      const from = emu.calls.length;
      const text = asSlackSends(caseText(c, bed.markers));
      if (c.surface === 'slash') {
        expect((await driver.slash(text, c.user)).text, c.id).toBe(REFUSAL_TEXT);
      } else {
        if (c.surface === 'dm') emu.sendDirectMessage({ text, user: c.user });
        else if (c.surface === 'mention') emu.sendAppMention({ text, user: c.user, channel: GENERAL });
        else if (c.surface === 'thread') emu.sendEvent({ type: 'message', channel: GENERAL, channel_type: 'channel', user: c.user, text, thread_ts: root });
        else emu.sendEvent({ type: 'message', subtype: 'bot_message', bot_id: c.user, channel: emu.dmChannelFor(OWNER), channel_type: 'im', text });
        if (c.reply === 'refusal') expect((await driver.ephemeralFor(c.user, from)).text, c.id).toBe(REFUSAL_TEXT);
      }
      const said = await driver.quietSince(from);
      expect(said.map((x) => x.params.user), c.id).toEqual(c.reply === 'refusal' && c.surface !== 'slash' ? [c.user] : []);
    }
    expect(bed.cluster.programs.filter((p) => p === 'sbatch')).toHaveLength(sbatchBefore);
    expect(bed.jobs.store.list()).toHaveLength(jobsBefore);
    expect(markersLeft(bed.markers)).toEqual([]);
  }, 120_000);

  it('forged and replayed clicks on a real cancel approval cancel nothing; the owner’s click cancels once', async () => {
    const sub = await driver.ask('dm', 'submit argv hold=100');
    const jobId = /as job (\d+)/.exec(sub.text)?.[1] ?? '';
    expect(jobId).toMatch(/^\d+$/);
    submitted.push(jobId);
    await until('the held job to run', async () => { await bed.jobs.refresh(); return bed.jobs.store.get(jobId)?.state === 'RUNNING'; }, 120_000, 2000);

    const ask = await driver.ask('dm', `cancel ${jobId}`);
    expect(ask.text).toBe(`Approval needed: cancel job ${jobId}`);
    const askTs = String(ask.call?.response.ts);
    const approval = approvalIdOf(ask.call!);
    const values = { APPROVAL: approval, APPROVAL_TAMPERED: tamper(approval), JOB: jobId, OTHER_JOB: String(Number(jobId) + 1), MARKER: `${bed.markers}/clicks` };
    const click = async (c: (typeof CLICKS)[number]): Promise<void> => {
      const answer = await driver.click({ actionId: c.actionId, value: fill(textOf(c.value), values), user: c.user === 'owner' ? OWNER : c.user, messageTs: askTs, channel: emu.dmChannelFor(OWNER) });
      if (c.reply === 'refusal') expect(answer.text, c.id).toBe(REFUSAL_TEXT);
      else expect(answer.text, c.id).toMatch(new RegExp(c.reply, 'u'));
    };

    for (const c of CLICKS.filter((x) => x.phase === 'live')) await click(c);
    await bed.jobs.refresh();
    expect(bed.jobs.store.get(jobId)?.state).toBe('RUNNING');
    expect(bed.cluster.programs).not.toContain('scancel');

    const done = await driver.click({ actionId: 'hpc_approve', value: approval, user: OWNER, messageTs: askTs, channel: emu.dmChannelFor(OWNER) });
    expect(done.text).toBe(`Approved by <@${OWNER}>: cancel job ${jobId}. Job ${jobId} is cancelled.`);
    await until('the cancel to show', async () => { await bed.jobs.refresh(); return bed.jobs.store.get(jobId)?.state === 'CANCELLED'; }, 60_000, 1000);

    for (const c of CLICKS.filter((x) => x.phase === 'decided')) await click(c);
    expect(bed.cluster.programs.filter((p) => p === 'scancel')).toHaveLength(1);
    expect(markersLeft(bed.markers)).toEqual([]);
  }, 240_000);

  it('nothing is lost: ping and status are still answered, and status lists every job', async () => {
    expect((await driver.ask('dm', 'ping')).text).toBe('pong');
    const status = (await driver.ask('dm', 'status')).text;
    for (const id of submitted) expect(status).toContain(id);
    expect(markersLeft(bed.markers)).toEqual([]);
  });
});
