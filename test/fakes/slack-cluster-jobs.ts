/**
 * A JobsApi straight over the ClusterService (squeue, scontrol, tail, sbatch, scancel on the real
 * testbed through the shared SSH session), for the Slack integration tests and the benchmark: it
 * proves the DM → cluster → reply pipe for real while the job service is built elsewhere. Every
 * value reaches the cluster as an argv element, never as shell text. Not the product's job
 * service: no store, no templates — `submit` runs one of the scripts it was given.
 */
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { RelayError } from '../../main/core/errors.js';
import type { JobStats, JobSummary, JobsApi, ResubmitChanges, SubmitResult, TailResult } from '../../main/core/slack/jobs-api.js';
import { SQUEUE_ARGV, parseSqueue } from '../../main/core/slurm/squeue-parser.js';

export interface ClusterJobsOptions {
  /** Absolute remote directory for job output (`%j.out`). */
  outDir: string;
  /** Template id → absolute remote script path (`submit TEMPLATE k=v…` runs `sbatch … SCRIPT k=v…`). */
  scripts: Record<string, string>;
  partition?: string;
}

export class ClusterJobs implements JobsApi {
  /** Remote commands run, for tests that count or inspect them. */
  readonly commands: string[][] = [];

  constructor(private readonly cluster: () => ClusterService, private readonly opts: ClusterJobsOptions) {}

  private async run(argv: string[]): Promise<string> {
    this.commands.push(argv);
    return this.cluster().run(argv, { timeoutMs: 30_000 });
  }

  async listJobs(): Promise<JobSummary[]> {
    const rows = parseSqueue(await this.run([...SQUEUE_ARGV]));
    return rows.map((r) => ({
      jobId: r.key,
      name: r.name,
      state: r.state,
      elapsedSec: r.state === 'PENDING' ? null : r.elapsedSec,
      partition: r.partition,
      where: r.state === 'PENDING' ? `(${r.reason})` : r.reason === 'None' ? '' : r.reason,
    }));
  }

  private async stdoutPath(jobId: string): Promise<string> {
    const out = await this.run(['scontrol', 'show', 'job', '-o', jobId]).catch((e: unknown) => {
      throw new RelayError('JOB_NOT_FOUND', `SLURM no longer knows job ${jobId} (${e instanceof Error ? e.message : String(e)}).`);
    });
    const m = /(?:^|\s)StdOut=(\S+)/.exec(out);
    if (!m?.[1]) throw new RelayError('JOB_NOT_FOUND', `Job ${jobId} has no output file.`);
    return m[1];
  }

  async tail(jobId: string, lines: number): Promise<TailResult> {
    const path = await this.stdoutPath(jobId);
    const text = await this.run(['tail', '-n', String(lines), '--', path]);
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return { jobId, lines: all, path, truncated: false };
  }

  async cancel(jobId: string): Promise<void> {
    await this.run(['scancel', jobId]);
  }

  async submit(templateId: string, params: Record<string, string>): Promise<SubmitResult> {
    const script = this.opts.scripts[templateId];
    if (!script) throw new RelayError('JOB_SCRIPT_INVALID', `No template ${templateId} on this test cluster.`);
    const out = await this.run([
      'sbatch', '--parsable', `--job-name=slack-${templateId}`, `--output=${this.opts.outDir}/%j.out`,
      `--partition=${this.opts.partition ?? 'gpu_dev'}`, '--time=2', '--mem=100M',
      script, ...Object.entries(params).map(([k, v]) => `${k}=${v}`),
    ]);
    const jobId = out.trim().split(';')[0] ?? '';
    return { jobId, name: `slack-${templateId}` };
  }

  async resubmit(_jobId: string, _changes: ResubmitChanges): Promise<SubmitResult> {
    throw new RelayError('JOB_ACTION_REFUSED', 'Resubmitting needs the job service (not part of this test double).');
  }

  async stats(jobId: string): Promise<JobStats> {
    const out = await this.run(['sacct', '-j', jobId, '-X', '-n', '-P', '-o', 'JobID,JobName,State,ExitCode,ElapsedRaw,TimelimitRaw']);
    const [id = jobId, name = '', state = '', exit = '', elapsed = '', limit = ''] = (out.split('\n')[0] ?? '').split('|');
    return {
      jobId: id, name, state: state.split(' ')[0] ?? state, exitCode: exit || null,
      elapsedSec: elapsed ? Number(elapsed) : null, timeLimitSec: limit && /^\d+$/.test(limit) ? Number(limit) * 60 : null,
      maxRssBytes: null, reqMemBytes: null,
    };
  }
}
