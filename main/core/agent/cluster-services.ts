import path from 'node:path';
import type { ClusterService } from '../cluster/cluster-service.js';
import { RelayError } from '../errors.js';
import type { JobsApi } from '../slack/jobs-api.js';
import { parseSacct, sacctArgv } from '../slurm/sacct-parser.js';
import { SQUEUE_ARGV, parseSqueue } from '../slurm/squeue-parser.js';
import { parseLogMetrics, parseMetricsCsv, parseSummaryJson, type MetricPoint } from '../slurm/metrics-parser.js';
import { parseJobRef } from '../slurm/slurm-values.js';
import type { AgentStore } from '../store/agent-store.js';
import { findTemplate, loadTemplates, renderJob, validateParams } from '../templates/index.js';
import type { JobTemplate } from '../templates/index.js';
import type {
  AgentServices, CommandResult, JobMetrics, JobStatusInfo, LogTail, MetricSeriesPoint, MonitorRequest, ParamValue, SubmittedJob, TemplateInfo,
} from './services.js';

/** Creates monitors (the cron module provides it when it runs in this process). */
export interface MonitorCreator {
  create(req: MonitorRequest): Promise<{ id: string; description: string }>;
}

export interface ClusterAgentServicesDeps {
  cluster: () => ClusterService;
  /** The templates directory (templates/ in the app), or how to find it when first needed. */
  templatesDir: string | (() => string);
  /** The agent's own records of the jobs it launched (their directories and values). */
  store: AgentStore;
  /**
   * The job service, when the composition root has one: submit, cancel and resubmit then go
   * through it (so it tracks the jobs and reports their ends). Without it, jobs are rendered by
   * the templates module and submitted with `sbatch --parsable` over the cluster service.
   */
  jobs?: JobsApi;
  monitors?: MonitorCreator;
}

const MAX_COMMAND_OUTPUT = 256 * 1024;

function jobIdOf(text: string): string {
  const ref = parseJobRef(text);
  if (!ref) throw new RelayError('USAGE', `"${text.slice(0, 40)}" is not a SLURM job id.`);
  return ref.key;
}

function stringParams(p: Record<string, ParamValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));
}

function toSeries(points: readonly MetricPoint[]): Record<string, MetricSeriesPoint[]> {
  const out: Record<string, MetricSeriesPoint[]> = {};
  for (const p of points) (out[p.series] ??= []).push({ step: p.step, value: p.value });
  return out;
}

/**
 * AgentServices over what the core has: the templates module, the cluster service (every remote
 * command an argv array), and the job service when present.
 */
export class ClusterAgentServices implements AgentServices {
  constructor(private readonly deps: ClusterAgentServicesDeps) {}

  private get cluster(): ClusterService {
    return this.deps.cluster();
  }

  private async templates(): Promise<JobTemplate[]> {
    const dir = this.deps.templatesDir;
    return loadTemplates(typeof dir === 'string' ? dir : dir());
  }

  async listTemplates(): Promise<TemplateInfo[]> {
    return (await this.templates()).map((t) => ({
      id: t.id,
      title: t.title,
      description: t.description,
      params: t.params.filter((p) => p.role === undefined).map((p) => ({
        name: p.name, type: p.type, help: p.help,
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        ...(p.choices ? { choices: p.choices } : {}),
        ...(p.advanced ? { advanced: true } : {}),
        ...(p.sbatch ? { resource: true } : {}),
      })),
    }));
  }

  async submitJob(templateId: string, params: Record<string, ParamValue>): Promise<SubmittedJob> {
    const template = findTemplate(await this.templates(), templateId);
    // Validate before anything reaches the cluster; the template error names the parameter.
    const values = validateParams(template, params);
    if (this.deps.jobs) {
      const r = await this.deps.jobs.submit(template.id, stringParams(params));
      return { jobId: r.jobId, templateId: template.id, params: values };
    }
    const base = `${await this.cluster.remoteDir()}/agent-jobs`;
    await this.cluster.run(['mkdir', '-p', '--', base], { timeoutMs: 30_000 });
    const workDir = (await this.cluster.run(['mktemp', '-d', `${base}/${template.id}-XXXXXX`], { timeoutMs: 30_000 })).trim();
    const job = renderJob(template, params, { workDir });
    await this.cluster.writeFile(`${workDir}/${path.posix.basename(template.script)}`, job.script, 0o700);
    for (const f of job.files) await this.cluster.writeFile(`${workDir}/${path.posix.basename(f.name)}`, f.content);
    const out = await this.cluster.run([
      'sbatch', '--parsable', ...job.sbatchArgs, `--output=${workDir}/slurm-${job.array ? '%A_%a' : '%j'}.out`, `${workDir}/${path.posix.basename(template.script)}`, ...job.scriptArgs,
    ], { timeoutMs: 60_000 });
    const jobId = out.trim().split(';')[0]?.trim() ?? '';
    if (!/^\d+$/.test(jobId)) throw new RelayError('JOB_SUBMIT_FAILED', `sbatch answered without a job id: ${JSON.stringify(out.slice(0, 200))}.`);
    return { jobId, templateId: template.id, params: job.params, workDir };
  }

  async jobStatus(jobIds: readonly string[]): Promise<JobStatusInfo[]> {
    const wanted = jobIds.map(jobIdOf);
    const live = parseSqueue(await this.cluster.run([...SQUEUE_ARGV], { timeoutMs: 30_000, idempotent: true }));
    const rows: JobStatusInfo[] = live
      .filter((r) => wanted.length === 0 || wanted.includes(r.key) || wanted.includes(r.baseId))
      .map((r) => ({ jobId: r.key, name: r.name, state: r.state, elapsedSec: r.elapsedSec, partition: r.partition, where: r.reason === 'None' ? '' : r.reason }));
    const seen = new Set(rows.map((r) => r.jobId));
    const rest = wanted.filter((id) => !seen.has(id) && !rows.some((r) => r.jobId.startsWith(`${id}_`)));
    if (rest.length) {
      const bases = rest.map((id) => parseJobRef(id)?.baseId ?? id);
      for (const rec of parseSacct(await this.cluster.run(sacctArgv(bases), { timeoutMs: 30_000, idempotent: true }))) {
        if (rec.kind !== 'job' || !(rest.includes(rec.key) || rest.includes(rec.baseId))) continue;
        rows.push({ jobId: rec.key, name: rec.name, state: rec.state, elapsedSec: rec.elapsedSec, exitCode: `${rec.exitCode}:${rec.signal}`, ...(rec.nodeList ? { where: rec.nodeList } : {}) });
      }
    }
    return rows;
  }

  /** The job's working directory and output files: our record, else `scontrol show job`, else sacct's WorkDir. */
  private async locate(jobId: string): Promise<{ workDir: string | null; stdout: string | null; stderr: string | null }> {
    const run = this.deps.store.runByJob(jobId);
    if (run?.workDir) return { workDir: run.workDir, stdout: `${run.workDir}/slurm-${jobId}.out`, stderr: `${run.workDir}/slurm-${jobId}.out` };
    // The job service's answer first: a job submitted from a terminal with its own --output keeps
    // the path the scheduler gave while it ran, which no guess from its directory would find.
    const known = this.deps.jobs?.outputPaths ? await this.deps.jobs.outputPaths(jobId).catch(() => null) : null;
    const sc = await this.cluster.exec(['scontrol', 'show', 'job', '-o', jobId], { timeoutMs: 30_000, idempotent: true });
    if (sc.code === 0) {
      const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(sc.stdout)?.[1] ?? null;
      return { workDir: field('WorkDir'), stdout: known?.stdout ?? field('StdOut'), stderr: known?.stderr ?? field('StdErr') };
    }
    const ref = parseJobRef(jobId);
    const wd = await this.cluster.exec(['sacct', '-j', ref?.baseId ?? jobId, '-X', '-n', '-P', '-o', 'JobID,WorkDir'], { timeoutMs: 30_000, idempotent: true });
    const line = wd.stdout.split('\n').find((l) => l.split('|')[0] === jobId);
    const workDir = line?.split('|').slice(1).join('|') || null;
    const guess = workDir ? `${workDir}/slurm-${jobId}.out` : null;
    return { workDir, stdout: known?.stdout ?? guess, stderr: known?.stderr ?? guess };
  }

  async tailLog(jobId: string, opts: { bytes: number; stream: 'stdout' | 'stderr' }): Promise<LogTail> {
    const id = jobIdOf(jobId);
    if (this.deps.jobs && !this.deps.store.runByJob(id)?.workDir) {
      const t = await this.deps.jobs.tail(id, 200);
      const text = t.lines.join('\n');
      return { jobId: id, path: t.path ?? '(job output)', text: text.length > opts.bytes ? text.slice(text.length - opts.bytes) : text, truncated: t.truncated || text.length > opts.bytes };
    }
    const where = await this.locate(id);
    const file = opts.stream === 'stderr' ? where.stderr : where.stdout;
    if (!file) throw new RelayError('JOB_NOT_FOUND', `Job ${id}'s output file is not known (SLURM has forgotten the job and it was not launched by the relay).`);
    const r = await this.cluster.exec(['tail', '-c', String(opts.bytes), '--', file], { timeoutMs: 30_000, idempotent: true, maxOutputBytes: opts.bytes + 1024 });
    if (r.code !== 0) throw new RelayError('REMOTE_FILE_NOT_FOUND', `Job ${id}'s output ${file} cannot be read: ${r.stderr.trim().slice(0, 200) || `exit ${r.code ?? r.signal}`}.`);
    const size = await this.cluster.exec(['stat', '-c', '%s', '--', file], { timeoutMs: 30_000, idempotent: true });
    return { jobId: id, path: file, text: r.stdout, truncated: Number(size.stdout.trim()) > opts.bytes };
  }

  async readMetrics(jobId: string): Promise<JobMetrics> {
    const id = jobIdOf(jobId);
    const run = this.deps.store.runByJob(id);
    const where = await this.locate(id);
    if (!where.workDir && !where.stdout) throw new RelayError('JOB_NOT_FOUND', `Job ${id}'s directory is not known.`);
    let outputs = { dirParam: 'output_dir', metrics: 'metrics.csv', summary: 'summary.json', dirDefault: 'results' };
    if (run) {
      const t = (await this.templates()).find((x) => x.id === run.templateId);
      if (t?.outputs) {
        const def = t.params.find((p) => p.name === t.outputs?.dirParam)?.default;
        outputs = { dirParam: t.outputs.dirParam, metrics: t.outputs.metrics ?? 'metrics.csv', summary: t.outputs.summary ?? 'summary.json', dirDefault: typeof def === 'string' ? def : 'results' };
      }
    }
    const configured = run?.params[outputs.dirParam];
    const outDir = typeof configured === 'string' && configured ? configured : outputs.dirDefault;
    // No directory (a terminal job the scheduler has forgotten, accounting off): its log only.
    const dir = outDir.startsWith('/') ? outDir : where.workDir ? `${where.workDir}/${outDir}` : null;
    const read = async (p: string): Promise<string | null> => {
      const r = await this.cluster.exec(['cat', '--', p], { timeoutMs: 30_000, idempotent: true, maxOutputBytes: 2 * 1024 * 1024 });
      return r.code === 0 ? r.stdout : null;
    };
    const csv = dir ? await read(`${dir}/${outputs.metrics}`) : null;
    const summaryText = dir ? await read(`${dir}/${outputs.summary}`) : null;
    let series = csv ? toSeries(parseMetricsCsv(csv.split('\n'), null).points) : {};
    if (Object.keys(series).length === 0 && where.stdout) {
      // No metrics file: the log's `key=value` lines (the demo prints one per epoch).
      const log = await read(where.stdout);
      if (log) series = toSeries(parseLogMetrics(log.split('\n')));
    }
    const summary: Record<string, number | null> = {};
    for (const p of (summaryText ? parseSummaryJson(summaryText) : null) ?? []) {
      if (!p.series.startsWith('args.')) summary[p.series] = p.value;
    }
    if (!csv && !summaryText && Object.keys(series).length === 0) throw new RelayError('REMOTE_FILE_NOT_FOUND', `Job ${id} left no metrics${dir ? ` in ${dir}` : ''} and printed none.`);
    return { jobId: id, dir: dir ?? path.posix.dirname(where.stdout ?? '.'), series, summary };
  }

  async cancelJob(jobId: string): Promise<void> {
    const id = jobIdOf(jobId);
    if (this.deps.jobs) return this.deps.jobs.cancel(id);
    await this.cluster.run(['scancel', id], { timeoutMs: 30_000 });
  }

  async resubmitJob(jobId: string, changes: Record<string, ParamValue>): Promise<SubmittedJob> {
    const id = jobIdOf(jobId);
    const run = this.deps.store.runByJob(id);
    if (run) return this.submitJob(run.templateId, { ...run.params, ...changes });
    if (this.deps.jobs) {
      const r = await this.deps.jobs.resubmit(id, { params: stringParams(changes) });
      return { jobId: r.jobId, templateId: '(as before)', params: changes };
    }
    throw new RelayError('JOB_ACTION_REFUSED', `Job ${id} was not launched by the relay, so its template and values are not known.`, { fix: 'Submit it anew with submit_job.' });
  }

  async runRemoteCommand(argv: readonly string[], opts: { timeoutMs: number }): Promise<CommandResult> {
    const r = await this.cluster.exec(argv, { timeoutMs: opts.timeoutMs, maxOutputBytes: MAX_COMMAND_OUTPUT });
    return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
  }

  async writeRemoteFile(p: string, content: string): Promise<{ path: string; bytes: number }> {
    if (/[\0\n\r]/.test(p)) throw new RelayError('USAGE', 'A remote path is one line without NUL bytes.');
    let target = p;
    if (p === '~' || p.startsWith('~/') || p.startsWith('$HOME/')) {
      const home = (await this.cluster.run(['sh', '-c', 'printf %s "$HOME"'], { timeoutMs: 30_000, idempotent: true })).trim();
      target = `${home}/${p.replace(/^(~|\$HOME)\/?/, '')}`;
    } else if (!p.startsWith('/')) {
      target = `${await this.cluster.remoteDir()}/${p}`;
    }
    await this.cluster.writeFile(target, content);
    return { path: target, bytes: Buffer.byteLength(content) };
  }

  async scheduleMonitor(req: MonitorRequest): Promise<{ id: string; description: string }> {
    if (!this.deps.monitors) {
      throw new RelayError('USAGE', 'Monitors cannot be created from here (the monitor service is not running in this process).', { fix: 'Create one with `hpc-relay cron create`.' });
    }
    return this.deps.monitors.create(req);
  }
}
