import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import { JobsRuntime } from '../../main/core/jobs/jobs-runtime.js';
import type { JobEndReport } from '../../main/core/notify/job-messages.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { systemClock } from '../../main/core/ports.js';
import { createStatusBoard } from '../../main/core/runtime/status-board.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { until } from '../helpers/wait.js';

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

describe('the job service and Slack coming back', () => {
  it('a report that failed while Slack was down goes out as soon as Slack is connected, not at the next retry', async () => {
    const slurm = new FakeSlurm();
    const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' }, slack: { enabled: true } }));
    const logger = createMemoryLogger();
    const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings.settings(), logger, templates: { render: () => { throw new Error('no templates here'); } } });
    const status = createStatusBoard();
    let slackUp = false;
    const reports: JobEndReport[] = [];
    const slack = {
      reportJobEnd: async (r: JobEndReport) => {
        if (!slackUp) throw new Error('The Slack gateway is not running.');
        reports.push(r);
      },
    };
    // The retry and the poll are an hour away: only Slack's return can explain a prompt delivery.
    const rt = new JobsRuntime({ jobs, session: () => { throw new Error('no SSH in this test'); }, channels: { slack }, settings: () => settings.settings(), clock: systemClock, logger, status, pollMs: 3_600_000 });
    const { jobId } = await jobs.submitScript({ name: 'train.sh', content: '#!/bin/sh\npython train.py\n' });
    slurm.set(jobId, { state: 'COMPLETED' });
    status.publish({ slack: { state: 'connecting' } });
    await rt.start();
    try {
      await until('the first, failed attempt', () => jobs.outbox.forJob(jobId).find((r) => r.channel === 'slack' && r.lastError !== null), 5_000, 20);
      expect(reports).toEqual([]);
      slackUp = true;
      status.publish({ slack: { state: 'connected' } });
      await until('the report', () => reports.length > 0, 5_000, 20);
      expect(reports.map((r) => r.jobId)).toEqual([jobId]);
      expect(jobs.outbox.forJob(jobId).find((r) => r.channel === 'slack')?.deliveredAt).not.toBeNull();
    } finally {
      await rt.stop();
    }
  });
});
