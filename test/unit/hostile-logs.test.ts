/**
 * The job-output part of the hostile input corpus: NUL bytes, invalid UTF-8, ANSI escapes,
 * carriage-return progress bars, bidi overrides, Slack markup and 10 MB lines, as a job's output
 * file. For each: the job service's tail returns the lines it should (the last one is never lost);
 * `tail JOB` in Slack (the real gateway and command layer over the job service) answers with
 * readable text the emulator accepts; the live metrics reader reads the whole file without a
 * crash and without keeping a huge partial line. test/integration/hostile-logs.test.ts does the
 * same with the files on the testbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import type { JobService } from '../../main/core/jobs/index.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { bytesOf, logCases } from '../helpers/hostile-corpus.js';
import { MAX_PARTIAL_LINE, SLACK_UNSAFE, jobsPort, logSeries, readAllMetrics } from '../helpers/hostile-logs.js';
import { SlackDriver } from '../helpers/hostile-slack.js';

const CASES = logCases();

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

let slurm: FakeSlurm;
let jobs: JobService;
let emu: SlackEmulator;
let gw: SlackGateway;
let driver: SlackDriver;

beforeAll(async () => {
  slurm = new FakeSlurm();
  const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' } }));
  jobs = createJobService({
    db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings.settings(), logger: createMemoryLogger(),
    templates: { render: () => { throw new Error('no templates here'); } },
  });
  emu = await startSlackEmulator();
  gw = createSlackGateway({ botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), allowedUsers: () => [emu.defaultUserId], ports: { jobs: jobsPort(jobs) } });
  await gw.start();
  driver = new SlackDriver(emu);
});
afterAll(async () => {
  await gw.stop();
  await emu.close();
});

/** A running job of its own per case (its own metrics cursor), with `bytes` as its output file. */
async function jobWithOutput(bytes: Buffer): Promise<string> {
  const { jobId } = await jobs.submitScript({ name: 'train.sh', content: '#!/bin/sh\npython train.py\n' });
  slurm.set(jobId, { state: 'RUNNING' });
  await jobs.refresh();
  const sub = jobs.store.submission(jobs.job(jobId).submissionId ?? '');
  if (!sub) throw new Error('no submission');
  slurm.files.set(`${sub.remoteDir}/slurm-${jobId}.out`, bytes);
  return jobId;
}

describe('hostile job output', () => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const bytes = bytesOf(c.content);
    const jobId = await jobWithOutput(bytes);

    const t = await jobs.tail(jobId, 20);
    if (c.lines !== undefined) expect(t.lines, c.why).toHaveLength(c.lines);
    if (c.last !== undefined) expect(t.lines.at(-1)).toBe(c.last);

    const answer = await driver.ask('dm', `tail ${jobId}`);
    expect(answer.text, `${c.why}: ${JSON.stringify(answer.text.slice(0, 300))}`).toMatch(new RegExp(c.reply, 'u'));
    expect(answer.text).not.toMatch(SLACK_UNSAFE);
    expect(answer.call?.response.ok).toBe(true);

    const m = await readAllMetrics(jobs, jobId, bytes.length);
    expect(m.offset).toBe(bytes.length);
    expect(m.partial).toBeLessThanOrEqual(MAX_PARTIAL_LINE);
    if (c.metrics) expect(logSeries(jobs, jobId)).toEqual(c.metrics);
  });
});
