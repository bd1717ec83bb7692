/**
 * Job tracking where SLURM accounting is off (sacct: "Slurm accounting storage is disabled"), on
 * the real testbed's controller: the tracker falls back to `scontrol show job` for how jobs ended,
 * stops asking sacct (it is asked again after 30 minutes), keeps one command per tick for the
 * jobs that left the queue, and a job the controller has already forgotten is closed from its
 * events-file line alone.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TickReport } from '../../main/core/jobs/job-tracker.js';
import { SCONTROL_JOBS_SCRIPT, parseScontrolJobs, scontrolFields } from '../../main/core/slurm/scontrol-parser.js';
import { accountingOff, finalOf, shScript, startJobsApp, type JobsApp } from '../helpers/e2e-cluster.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
let app: JobsApp;
/** Jobs whose scontrol record the "controller" has forgotten (a rule answers nothing for them). */
const forgotten = new Set<string>();

beforeAll(async () => {
  app = await startJobsApp(tb, `$HOME/hpc-relay-it/acct-off-${RUN}`, [
    accountingOff,
    (argv) => {
      if (argv[0] !== 'sh' || argv[2] !== SCONTROL_JOBS_SCRIPT || !argv.slice(4).some((id) => forgotten.has(id))) return undefined;
      return { stdout: '', stderr: '', code: 0, signal: null, truncated: false };
    },
  ]);
});
afterAll(async () => {
  await app?.stop();
});

describe('accounting off: ends from scontrol show job', () => {
  it('reads scontrol -o lines (array tasks, ranges, values with spaces)', () => {
    const f = scontrolFields('JobId=12 JobName=my job name UserId=u(1) JobState=COMPLETED Reason=None ExitCode=0:0 Command=/a b/c.sh');
    expect([f.get('JobName'), f.get('JobState'), f.get('Command')]).toEqual(['my job name', 'COMPLETED', '/a b/c.sh']);
    const recs = parseScontrolJobs([
      'JobId=447 ArrayJobId=446 ArrayTaskId=0 JobName=wrap JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 RunTime=00:00:05 TimeLimit=00:01:00 StartTime=2026-11-28T05:23:45 EndTime=2026-11-28T05:23:50 NodeList=vm NumCPUs=2 MinMemoryCPU=1G',
      'JobId=446 ArrayJobId=446 ArrayTaskId=1-3 JobName=wrap JobState=CANCELLED Reason=JobHeldUser ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED StartTime=Unknown EndTime=2026-11-28T05:24:00 NodeList=(null) MinMemoryNode=2G',
      'slurm_load_jobs error: Invalid job id specified',
    ].join('\n'));
    expect(recs).toEqual([
      expect.objectContaining({ kind: 'job', key: '446_0', baseId: '446', arrayTask: 0, state: 'FAILED', exitCode: 3, signal: 0, elapsedSec: 5, timeLimitSec: 60, nodeList: 'vm', reqMemBytes: 2 * 1024 ** 3, maxRssBytes: null }),
      expect.objectContaining({ kind: 'range', baseId: '446', spec: '1-3', state: 'CANCELLED', nodeList: null, timeLimitSec: null, reqMemBytes: 2 * 1024 ** 3 }),
    ]);
  });

  it('job ends come from scontrol (events line and tick alike); sacct is asked once; a tick is squeue + one scontrol command', async () => {
    const fail = await app.jobs.submitScript(shScript('fail.sh', 'echo about to fail; exit 3'));
    const ok = await app.jobs.submitScript(shScript('ok.sh', 'echo fine'));
    // Ends noticed through the events file: the reconcile asks scontrol, not sacct.
    const [f, o] = await Promise.all([finalOf(app, fail.jobId, 120_000), finalOf(app, ok.jobId, 120_000)]);
    expect(f?.job).toMatchObject({ state: 'FAILED', exitCode: 3, signal: 0, nodeList: tb.nodeName });
    expect(o?.job).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(f?.transition.source).toBe('events');
    expect(app.jobs.store.get(ok.jobId)?.elapsedSec).not.toBeNull();
    for (let i = 0; i < 40 && app.notes.length < 2; i++) await new Promise((res) => setTimeout(res, 250));
    expect(app.notes.filter((n) => n.target === `job:${fail.jobId}`)).toEqual([expect.objectContaining({ outcome: 'failed', title: expect.stringContaining('FAILED (exit 3:0)') })]);
    expect(app.notes.filter((n) => n.target === `job:${ok.jobId}`)).toEqual([expect.objectContaining({ outcome: 'succeeded' })]);
    expect(app.jobs.tracker.accountingOff).toBe(true);

    // A job killed without its trap running (the wrapper itself gets SIGKILL): only the tick can find its end.
    const killed = await app.jobs.submitScript(shScript('killed.sh', 'echo started; sleep 1; kill -9 $PPID; sleep 30'));
    // The test plays the poll timer, recording what each tick sent.
    const reports: Array<{ report: TickReport; commands: Record<string, number>; scontrol: number }> = [];
    let stop = false;
    const ticking = (async () => {
      while (!stop && !app.jobs.store.get(killed.jobId)?.final) {
        await new Promise((r) => setTimeout(r, 2_000));
        const from = app.cluster.commands.length;
        const report = await app.jobs.refresh();
        reports.push({ report, commands: app.cluster.count(from), scontrol: app.cluster.commands.slice(from).filter((c) => c[2] === SCONTROL_JOBS_SCRIPT).length });
      }
    })();
    const k = await finalOf(app, killed.jobId, 120_000).finally(() => { stop = true; });
    await ticking;
    expect(k?.transition.source).toBe('scontrol');
    expect(k?.job).toMatchObject({ state: 'FAILED', exitCode: 0, signal: 9 });
    expect(app.jobs.store.events(killed.jobId).map((e) => e.kind)).not.toContain('exit-trap');
    // Every tick: one squeue, no sacct; the one that found the end also one scontrol command (and one read of the job's output for triage).
    for (const t of reports) expect([t.report.squeueCalls, t.report.sacctCalls, t.commands.squeue, t.commands.sacct ?? 0]).toEqual([1, 0, 1, 0]);
    const last = reports.at(-1);
    // (Other sessions' jobs on the shared testbed are adopted by squeue --me and may end in the same tick.)
    expect(last?.report.finalized.map((x) => x.job.jobKey)).toContain(killed.jobId);
    expect([last?.report.scontrolCalls, last?.scontrol, last?.report.otherCalls]).toEqual([1, 1, 1]);
    // While the job ran, the queue alone answered: no scontrol at all (unless an adopted job ended).
    for (const t of reports.slice(0, -1)) expect(t.report.scontrolCalls).toBe(t.report.finalized.length > 0 ? 1 : 0);
    expect(app.cluster.commands.filter((c) => c[0] === 'sacct')).toHaveLength(1);
  }, 240_000);

  it('a job the controller already forgot is closed from its events-file line (exit code, no memory numbers)', async () => {
    const sub = await app.jobs.submitScript(shScript('gone.sh', 'echo bye; exit 4'));
    forgotten.add(sub.jobId);
    // Its line arrives; scontrol knows nothing of it; the next tick sees it left the queue.
    const waitLine = async () => {
      for (let i = 0; i < 240 && !app.jobs.store.events(sub.jobId).some((e) => e.kind === 'exit-trap'); i++) await new Promise((r) => setTimeout(r, 500));
    };
    await waitLine();
    expect(app.jobs.store.get(sub.jobId)?.final).toBe(false);
    const end = finalOf(app, sub.jobId, 60_000, { everyMs: 2_000 });
    const r = await end;
    expect(r?.transition.source).toBe('scontrol');
    expect(r?.job).toMatchObject({ state: 'FAILED', exitCode: 4, signal: 0, maxRssBytes: null });
    for (let i = 0; i < 40 && app.notes.filter((n) => n.target === `job:${sub.jobId}`).length === 0; i++) await new Promise((res) => setTimeout(res, 250));
    await new Promise((res) => setTimeout(res, 500));
    expect(app.notes.filter((n) => n.target === `job:${sub.jobId}`)).toEqual([expect.objectContaining({ outcome: 'failed', title: expect.stringContaining('FAILED (exit 4:0)') })]);
  }, 180_000);
});
