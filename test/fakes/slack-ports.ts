/**
 * Small in-memory implementations of the Slack command ports (JobsApi, CronApi, UsageApi,
 * AgentHandler) for tests where the job service is not the subject. They record every call, so a
 * test can prove that nothing ran.
 */
import type {
  AgentHandler, AgentIo, AgentRequest, CronApi, CronMonitorSummary, JobStats, JobSummary, JobsApi, ResubmitChanges,
  SubmitResult, TailResult, UsageApi, UsageSummary,
} from '../../main/core/slack/jobs-api.js';

export type PortCall = { method: string; args: unknown[] };

export class MemoryJobs implements JobsApi {
  readonly calls: PortCall[] = [];
  jobs: JobSummary[];
  logs = new Map<string, string[]>();
  private nextId = 9000;

  constructor(jobs: JobSummary[] = [
    { jobId: '4242', name: 'train_cnn', state: 'RUNNING', elapsedSec: 754, partition: 'gpu_normal', where: 'node01' },
    { jobId: '4243', name: 'sweep', state: 'PENDING', elapsedSec: null, partition: 'gpu_dev', where: '(Priority)' },
  ]) {
    this.jobs = jobs;
    this.logs.set('4242', ['epoch 1 loss=2.1', 'epoch 2 loss=1.7', 'epoch 3 loss=1.2']);
  }

  private find(jobId: string): JobSummary {
    const j = this.jobs.find((x) => x.jobId === jobId);
    if (!j) throw new Error(`no job ${jobId}`);
    return j;
  }

  async listJobs(): Promise<JobSummary[]> {
    this.calls.push({ method: 'listJobs', args: [] });
    return this.jobs;
  }

  async tail(jobId: string, lines: number): Promise<TailResult> {
    this.calls.push({ method: 'tail', args: [jobId, lines] });
    this.find(jobId);
    const all = this.logs.get(jobId) ?? [];
    return { jobId, lines: all.slice(-lines), path: `/scratch/relay/${jobId}.out`, truncated: all.length > lines };
  }

  async cancel(jobId: string): Promise<void> {
    this.calls.push({ method: 'cancel', args: [jobId] });
    this.find(jobId).state = 'CANCELLED';
  }

  async submit(templateId: string, params: Record<string, string>): Promise<SubmitResult> {
    this.calls.push({ method: 'submit', args: [templateId, params] });
    const jobId = String(this.nextId++);
    this.jobs.unshift({ jobId, name: templateId, state: 'PENDING', elapsedSec: null });
    return { jobId, name: templateId };
  }

  async resubmit(jobId: string, changes: ResubmitChanges): Promise<SubmitResult> {
    this.calls.push({ method: 'resubmit', args: [jobId, changes] });
    const old = this.find(jobId);
    const id = String(this.nextId++);
    this.jobs.unshift({ ...old, jobId: id, state: 'PENDING', elapsedSec: null });
    return { jobId: id, name: old.name };
  }

  async stats(jobId: string): Promise<JobStats> {
    this.calls.push({ method: 'stats', args: [jobId] });
    const j = this.find(jobId);
    return { jobId, name: j.name, state: j.state, exitCode: null, elapsedSec: j.elapsedSec, timeLimitSec: 3600, maxRssBytes: 3 * 2 ** 30, reqMemBytes: 4 * 2 ** 30, nodeList: 'node01' };
  }

  called(method?: string): PortCall[] {
    return method ? this.calls.filter((c) => c.method === method) : this.calls;
  }
}

export class MemoryCron implements CronApi {
  readonly calls: PortCall[] = [];
  monitors: CronMonitorSummary[] = [{ id: 'digest1', name: 'nightly digest', schedule: 'daily at 9am', paused: false, nextRunAt: Date.UTC(2030, 0, 1, 9), lastOutcome: 'ok' }];
  async list(): Promise<CronMonitorSummary[]> {
    this.calls.push({ method: 'list', args: [] });
    return this.monitors;
  }
  async pause(id: string): Promise<void> {
    this.calls.push({ method: 'pause', args: [id] });
    const m = this.monitors.find((x) => x.id === id);
    if (!m) throw new Error(`no monitor ${id}`);
    m.paused = true;
  }
  async resume(id: string): Promise<void> {
    this.calls.push({ method: 'resume', args: [id] });
    const m = this.monitors.find((x) => x.id === id);
    if (!m) throw new Error(`no monitor ${id}`);
    m.paused = false;
  }
}

export class MemoryUsage implements UsageApi {
  async usage(): Promise<UsageSummary> {
    return { monthUsd: 3.5, budgetUsd: 20, inputTokens: 120_000, outputTokens: 8000, conversations: 4 };
  }
}

/** An agent that records requests and runs a scripted reaction. */
export class ScriptedAgent implements AgentHandler {
  readonly requests: AgentRequest[] = [];
  constructor(private readonly react: (req: AgentRequest, io: AgentIo) => Promise<void> = async (req, io) => io.say(`agent heard: ${req.text}`)) {}
  async handle(req: AgentRequest, io: AgentIo): Promise<void> {
    this.requests.push(req);
    await this.react(req, io);
  }
}
