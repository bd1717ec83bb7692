/**
 * Shared pieces of the agent tests (not a test file itself): an agent over a real store and the
 * Anthropic emulator (the real SDK over HTTP), services that record what the tools asked for,
 * a poster and an approver that record what they were given.
 */
import { afterEach } from 'vitest';
import path from 'node:path';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import { AgentStore } from '../../main/core/store/agent-store.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { Agent, type AgentDeps } from '../../main/core/agent/agent.js';
import type { AgentSettings, ApprovalAsk, ApprovalDecision, Approver, ThreadPoster, ThreadRef } from '../../main/core/agent/ports.js';
import type {
  AgentServices, CommandResult, JobMetrics, JobStatusInfo, LogTail, MonitorRequest, ParamValue, SubmittedJob, TemplateInfo,
} from '../../main/core/agent/services.js';
import type { Clock } from '../../main/core/ports.js';
import { startAnthropicEmulator, type AnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { createMemoryLogger, type MemoryLogger } from '../fakes/memory-logger.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { makeHome } from '../helpers/temp-home.js';

export const CNN_TEMPLATE: TemplateInfo = {
  id: 'cnn_train',
  title: 'Train the CNN on CIFAR-10',
  description: 'A 4-layer CNN.',
  params: [
    { name: 'partition', type: 'string', help: 'SLURM partition', default: 'gpu_normal', resource: true },
    { name: 'time', type: 'duration', help: 'Time limit', default: '00:10:00', resource: true },
    { name: 'epochs', type: 'int', help: 'Passes over the training set.', default: 10, min: 1, max: 1000 },
    { name: 'batch_size', type: 'int', help: 'Images per step.', default: 64, min: 1, max: 8192 },
    { name: 'lr', type: 'float', help: 'Learning rate.', default: 0.01, min: 1e-7, max: 10 },
    { name: 'synthetic', type: 'bool', help: 'Generated data.', default: false },
    { name: 'output_dir', type: 'path', help: 'Where results go.', default: 'results' },
    { name: 'python', type: 'path', help: 'Interpreter.', default: '/usr/bin/python3', advanced: true },
  ],
};

export interface Call {
  method: keyof AgentServices;
  args: unknown[];
}

/**
 * AgentServices that record every call and answer from functions the test sets. This stands for
 * the cluster in tests of the agent's own logic (the guard, the loop, the research engine); the
 * real adapter is exercised against the testbed in test/integration/agent-testbed.test.ts.
 */
export class RecordingServices implements AgentServices {
  readonly calls: Call[] = [];
  private nextJob = 1000;
  templates: TemplateInfo[] = [CNN_TEMPLATE];
  logs = new Map<string, string>();
  metrics = new Map<string, JobMetrics>();
  states = new Map<string, string>();
  submitted: SubmittedJob[] = [];
  onSubmit: ((templateId: string, params: Record<string, ParamValue>) => void) | null = null;
  command: (argv: readonly string[]) => CommandResult = () => ({ exitCode: 0, stdout: '', stderr: '', truncated: false });

  private rec(method: keyof AgentServices, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  called(method: keyof AgentServices): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  async listTemplates(): Promise<TemplateInfo[]> {
    this.rec('listTemplates');
    return this.templates;
  }

  async submitJob(templateId: string, params: Record<string, ParamValue>): Promise<SubmittedJob> {
    this.rec('submitJob', templateId, params);
    if (!this.templates.some((t) => t.id === templateId)) throw new Error(`There is no template "${templateId}".`);
    this.onSubmit?.(templateId, params);
    const job = { jobId: String(this.nextJob++), templateId, params, workDir: `/scratch/u/agent-jobs/${templateId}-x` };
    this.submitted.push(job);
    this.states.set(job.jobId, 'PENDING');
    return job;
  }

  async jobStatus(jobIds: readonly string[]): Promise<JobStatusInfo[]> {
    this.rec('jobStatus', [...jobIds]);
    return jobIds.map((id) => ({ jobId: id, name: 'hpc-relay-cnn_train', state: this.states.get(id) ?? 'COMPLETED', elapsedSec: 60 }));
  }

  async tailLog(jobId: string, opts: { bytes: number; stream: 'stdout' | 'stderr' }): Promise<LogTail> {
    this.rec('tailLog', jobId, opts);
    const text = this.logs.get(jobId);
    if (text === undefined) throw new Error(`Job ${jobId}'s output file is not known.`);
    return { jobId, path: `/scratch/u/slurm-${jobId}.out`, text: text.slice(-opts.bytes), truncated: text.length > opts.bytes };
  }

  async readMetrics(jobId: string): Promise<JobMetrics> {
    this.rec('readMetrics', jobId);
    const m = this.metrics.get(jobId);
    if (!m) throw new Error(`Job ${jobId} left no metrics.`);
    return m;
  }

  async cancelJob(jobId: string): Promise<void> {
    this.rec('cancelJob', jobId);
  }

  async resubmitJob(jobId: string, changes: Record<string, ParamValue>): Promise<SubmittedJob> {
    this.rec('resubmitJob', jobId, changes);
    return { jobId: String(this.nextJob++), templateId: 'cnn_train', params: changes };
  }

  async runRemoteCommand(argv: readonly string[], opts: { timeoutMs: number }): Promise<CommandResult> {
    this.rec('runRemoteCommand', [...argv], opts);
    return this.command(argv);
  }

  async writeRemoteFile(p: string, content: string): Promise<{ path: string; bytes: number }> {
    this.rec('writeRemoteFile', p, content);
    return { path: p, bytes: Buffer.byteLength(content) };
  }

  async scheduleMonitor(req: MonitorRequest): Promise<{ id: string; description: string }> {
    this.rec('scheduleMonitor', req);
    return { id: 'm1', description: req.schedule };
  }
}

export class RecordingPoster implements ThreadPoster {
  readonly posts: Array<{ where: ThreadRef; text: string }> = [];
  async post(where: ThreadRef, text: string): Promise<void> {
    this.posts.push({ where, text });
  }
}

export class ScriptedApprover implements Approver {
  readonly asks: ApprovalAsk[] = [];
  constructor(private readonly decide: (ask: ApprovalAsk) => ApprovalDecision = () => ({ approved: false, by: 'U0DENIER', reason: 'denied' })) {}
  async request(ask: ApprovalAsk): Promise<ApprovalDecision> {
    this.asks.push(ask);
    return this.decide(ask);
  }
}

export const approveAll = (by = 'U0APPROVER'): ScriptedApprover => new ScriptedApprover(() => ({ approved: true, by }));
export const denyAll = (): ScriptedApprover => new ScriptedApprover();

export class FakeClock implements Clock {
  constructor(public t = Date.UTC(2026, 5, 15, 12, 0, 0)) {}
  now(): number {
    return this.t;
  }
  setTimeout(): { cancel(): void } {
    throw new Error('the agent never sets timers');
  }
}

export interface Harness {
  emu: AnthropicEmulator;
  agent: Agent;
  store: AgentStore;
  db: Db;
  services: RecordingServices;
  poster: RecordingPoster;
  registry: SecretRegistry;
  logger: MemoryLogger;
  clock: FakeClock;
  settings: AgentSettings;
  key: { value: string | null };
  waits: number[];
  /** A new Agent over the same database and services (a restart). */
  restart(): Agent;
  close(): Promise<void>;
}

export interface HarnessOptions {
  settings?: Partial<AgentSettings>;
  services?: RecordingServices;
  /** A database file (for restarts across processes); default a file in a fresh test home. */
  dbFile?: string;
  contextTokens?: number;
  retries?: number;
  timeoutMs?: number;
  emu?: AnthropicEmulator;
  /** Where the agent posts instead of the recording poster (e.g. the Slack hub's thread poster over a real gateway). */
  poster?: ThreadPoster;
}

export async function harness(o: HarnessOptions = {}): Promise<Harness> {
  const emu = o.emu ?? await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
  const dbFile = o.dbFile ?? path.join(makeHome('agent'), 'hpc-relay.db');
  const db = openDatabase(dbFile);
  const registry = new SecretRegistry();
  registry.add(TEST_SECRETS.anthropic);
  registry.add(TEST_SECRETS.passphrase);
  const store = new AgentStore(db, registry);
  const services = o.services ?? new RecordingServices();
  const poster = new RecordingPoster();
  const logger = createMemoryLogger();
  const clock = new FakeClock();
  const settings: AgentSettings = { enabled: true, model: 'claude-sonnet-4-6', baseUrl: emu.url, maxTurns: 8, monthlyBudgetUsd: 20, ...o.settings };
  const key = { value: TEST_SECRETS.anthropic as string | null };
  const waits: number[] = [];
  const make = (): Agent => {
    const deps: AgentDeps = {
      store: new AgentStore(db, registry),
      services,
      settings: () => settings,
      apiKey: async () => key.value,
      poster: o.poster ?? poster,
      registry,
      logger,
      clock,
      model: { retries: o.retries ?? 3, retryBaseMs: 10, sleep: async (ms) => { waits.push(ms); }, timeoutMs: o.timeoutMs ?? 5000 },
      ...(o.contextTokens ? { contextTokens: o.contextTokens } : {}),
    };
    return new Agent(deps);
  };
  return {
    emu, agent: make(), store, db, services, poster, registry, logger, clock, settings, key, waits,
    restart: make,
    async close() {
      if (!o.emu) await emu.close();
      db.close();
    },
  };
}

/** The text of every block a request's messages hold (text, tool_use input, tool_result content). */
export function requestText(body: Record<string, unknown> | undefined): string {
  return JSON.stringify(body?.messages ?? []);
}

/** The tool_result texts of a request's last message. */
export function lastToolResults(body: Record<string, unknown> | undefined): Array<{ content: string; is_error: boolean }> {
  const msgs = Array.isArray(body?.messages) ? body.messages as Array<{ role: string; content: unknown }> : [];
  const last = msgs.at(-1);
  if (!last || !Array.isArray(last.content)) return [];
  return (last.content as Array<Record<string, unknown>>).filter((b) => b.type === 'tool_result').map((b) => ({ content: String(b.content), is_error: b.is_error === true }));
}

/** A test file's `setup(o)`: a fresh harness per call, each closed after its test. */
export function harnessPerTest(): (o?: HarnessOptions) => Promise<Harness> {
  const open: Harness[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()?.close();
  });
  return async (o = {}) => {
    const h = await harness(o);
    open.push(h);
    return h;
  };
}
