/**
 * The doctor's SLURM checks on the real testbed:
 * - slurm.eventsFile submits a tiny job through the relay's wrapper; the line it writes on the
 *   compute node shows up in <remoteDir>/events.log within seconds (a pass is kept for an hour:
 *   the next doctor run submits nothing). Where the job's line cannot reach the file (here: the
 *   file is read-only to the job, as a node-local directory would be) it fails with the fix.
 * - slurm.accounting: on here (slurmdbd); a warning, not a failure, where sacct says accounting
 *   is off or cannot reach its database.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runDoctor } from '../../main/core/doctor/doctor.js';
import { accountingCheck, eventsFileCheck } from '../../main/core/doctor/slurm-checks.js';
import type { Core } from '../../main/core/index.js';
import type { JobService } from '../../main/core/jobs/index.js';
import { accountingOff, BendableCluster } from '../helpers/e2e-cluster.js';
import { testbedCore } from '../helpers/testbed-core.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
let core: Core;
let dir: string;

beforeAll(async () => {
  core = testbedCore(tb, { settings: { 'cluster.remoteDir': `$HOME/hpc-relay-it/doctor-${RUN}` } });
  dir = await core.cluster().remoteDir();
});
afterAll(async () => {
  if (dir) await core.cluster().exec(['rm', '-rf', '--', dir]).catch(() => undefined);
  await core.close();
});

async function eventLines(): Promise<string[]> {
  const out = await core.cluster().run(['cat', '--', `${dir}/events.log`]);
  return out.split('\n').filter(Boolean);
}

describe('doctor: slurm.eventsFile', () => {
  it('a test job’s end reaches events.log from the compute node within seconds; a second run uses the cached pass', async () => {
    const started = Date.now();
    const report = await core.doctor();
    const check = report.checks.find((c) => c.id === 'slurm.eventsFile');
    expect(check, JSON.stringify(report.checks)).toMatchObject({ ok: true, warning: false, fix: null });
    expect(check?.message).toMatch(new RegExp(`^A test job \\((\\d+)\\) ended on ${tb.nodeName} and its line reached ${dir}/events\\.log on the login node [\\d.]+ s after submission \\(exit 0\\)\\.$`));
    const jobId = /\((\d+)\)/.exec(check?.message ?? '')?.[1];
    expect(await eventLines()).toEqual([expect.stringMatching(new RegExp(`^${jobId} 0 \\d+$`))]);
    expect(Date.now() - started).toBeLessThan(90_000);
    // The probe's files are gone; only the probe script and its wrapper stay for the next run.
    expect((await core.cluster().run(['ls', '--', `${dir}/doctor`])).split('\n').filter(Boolean).sort()).toEqual(['probe.sh', 'relay-wrapper.sh']);

    const again = await core.doctor();
    expect(again.checks.find((c) => c.id === 'slurm.eventsFile')?.message).toMatch(/\(checked \d+ min ago\)$/);
    expect(await eventLines()).toHaveLength(1);
    expect(again.checks.find((c) => c.id === 'slurm.accounting')).toMatchObject({ ok: true, warning: false, message: expect.stringContaining('Accounting is on (accounting_storage/slurmdbd)') });
  }, 150_000);

  it('a line the job cannot write to the events file (not shared with the compute nodes) fails the check with the fix', async () => {
    const jobs = core.jobs();
    const ro = `${dir}/readonly-events.log`;
    await core.cluster().run(['sh', '-c', 'touch "$1" && chmod 444 "$1"', 'sh', ro]);
    // The same job service, but its events file is one the job cannot append to.
    const blind: JobService = Object.assign(Object.create(jobs) as JobService, { eventsPath: async () => ro });
    const report = await runDoctor([eventsFileCheck({ cluster: () => core.cluster(), jobs: () => blind, probeGraceMs: 5_000 })]);
    const check = report.checks[0];
    expect(check).toMatchObject({ id: 'slurm.eventsFile', ok: false });
    expect(check?.message).toMatch(/^A test job \(\d+\) ran and ended, but the line its wrapper appends to .*readonly-events\.log never reached the login node/);
    expect(check?.fix).toContain('cluster.remoteDir');
    expect(report.ok).toBe(false);
  }, 150_000);
});

describe('doctor: slurm.accounting', () => {
  it('warns (and passes) where accounting is off, naming the fallback and MinJobAge', async () => {
    const cluster = new BendableCluster(core.cluster().ssh);
    cluster.rules.push(accountingOff, (argv) => (argv[0] === 'scontrol' && argv[1] === 'show' && argv[2] === 'config'
      ? { stdout: 'AccountingStorageType   = accounting_storage/none\nMinJobAge               = 300 sec\n', stderr: '', code: 0, signal: null, truncated: false } : undefined));
    const report = await runDoctor([accountingCheck({ cluster: () => cluster, jobs: () => core.jobs() })]);
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({ ok: true, warning: true, fix: expect.stringContaining('slurmdbd') });
    expect(report.checks[0]?.message).toContain('Accounting is off on this cluster (AccountingStorageType=accounting_storage/none)');
    expect(report.checks[0]?.message).toContain('`scontrol show job`');
    expect(report.checks[0]?.message).toContain('300 s (MinJobAge)');
  });

  it('warns where sacct cannot reach its database', async () => {
    const cluster = new BendableCluster(core.cluster().ssh);
    cluster.rules.push((argv) => (argv[0] === 'sacct'
      ? { stdout: '', stderr: 'sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection\nsacct: error: Problem talking to the database: Connection refused\n', code: 1, signal: null, truncated: false } : undefined));
    const report = await runDoctor([accountingCheck({ cluster: () => cluster, jobs: () => core.jobs() })]);
    expect(report.checks[0]).toMatchObject({ ok: true, warning: true });
    expect(report.checks[0]?.message).toMatch(/^sacct fails \(.*Problem talking to the database: Connection refused\)\. Until it works, HPC Relay reads how jobs ended from `scontrol show job`/);
  });
});
