/**
 * The job-output part of the hostile input corpus on the testbed: each output file is written on
 * the cluster as a real job's stdout, then read back through the real remote read (one `sh -c`,
 * base64 over the SSH session): the job service's tail, `tail JOB` in Slack through the real
 * gateway, and the live metrics reader, as in test/unit/hostile-logs.test.ts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { bytesOf, logCases } from '../helpers/hostile-corpus.js';
import { MAX_PARTIAL_LINE, SLACK_UNSAFE, jobsPort, logSeries, readAllMetrics } from '../helpers/hostile-logs.js';
import { SlackDriver } from '../helpers/hostile-slack.js';
import { allFinal, hostileBed } from '../helpers/hostile-testbed.js';
import type { HostileBed } from '../helpers/hostile-testbed.js';

const tb = inject('testbed');
const CASES = logCases();
let bed: HostileBed;
let emu: SlackEmulator;
let gw: SlackGateway;
let driver: SlackDriver;
/** One finished job per case, whose output file the case replaces. */
const jobOf = new Map<string, { jobId: string; path: string }>();

beforeAll(async () => {
  bed = await hostileBed(tb, 'logs');
  emu = await startSlackEmulator();
  gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), registry: bed.core.registry,
    allowedUsers: () => [emu.defaultUserId], ports: { jobs: jobsPort(bed.jobs) },
  });
  await gw.start();
  driver = new SlackDriver(emu, 60_000);
  for (const c of CASES) {
    const { jobId } = await bed.jobs.submit('argv', { text: c.id });
    const job = bed.jobs.job(jobId);
    const sub = bed.jobs.store.submission(job.submissionId ?? '');
    jobOf.set(c.id, { jobId, path: (sub?.stdoutPattern ?? '').replace('%j', job.jobKey) });
  }
  await allFinal(bed.jobs, [...jobOf.values()].map((j) => j.jobId), 200_000);
}, 240_000);

afterAll(async () => {
  await gw?.stop();
  await emu?.close();
  await bed?.close();
});

describe('hostile job output on the testbed', () => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const { jobId, path } = jobOf.get(c.id) ?? { jobId: '', path: '' };
    const bytes = bytesOf(c.content);
    await bed.core.cluster().writeFile(path, bytes, 0o600);

    const t = await bed.jobs.tail(jobId, 20);
    if (c.lines !== undefined) expect(t.lines, c.why).toHaveLength(c.lines);
    if (c.last !== undefined) expect(t.lines.at(-1)).toBe(c.last);

    const answer = await driver.ask('dm', `tail ${jobId}`);
    expect(answer.text, `${c.why}: ${JSON.stringify(answer.text.slice(0, 300))}`).toMatch(new RegExp(c.reply, 'u'));
    expect(answer.text).not.toMatch(SLACK_UNSAFE);
    expect(answer.call?.response.ok).toBe(true);

    const m = await readAllMetrics(bed.jobs, jobId, bytes.length);
    expect(m.offset).toBe(bytes.length);
    expect(m.partial).toBeLessThanOrEqual(MAX_PARTIAL_LINE);
    if (c.metrics) expect(logSeries(bed.jobs, jobId)).toEqual(c.metrics);
  }, 120_000);
});
