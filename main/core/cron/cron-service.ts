/**
 * Cron monitors: create, list, pause, resume, remove (the CLI, Slack's `/hpc cron …` and the window
 * all call this class), and the scheduler that runs them and keeps its promises through sleep and
 * restarts.
 *
 * Timing rules, all measured on the injected Clock (tests use a fake one):
 * - A planned time is "handled" once it has run or been recorded as skipped; the monitor's cursor
 *   moves past it in the same transaction, so a restart neither repeats nor forgets one.
 * - On start, resume, or a check that finds planned times in the past: the newest missed time runs
 *   once now if it is within the grace window (default min(interval, 15 min)); every other missed
 *   time is recorded as skipped ("missed while asleep" / "… not running") — never a burst.
 * - One run per monitor at a time (a unique index on the ledger enforces it across processes too):
 *   a planned time that comes while the previous run is still going is recorded as skipped.
 * - A run that fails because the network is not back (a coded SSH/Slack unreachable error)
 *   retries with backoff, giving up before the next planned time; resume() retries at once.
 * - The scheduler never sleeps longer than `maxTickMs`, because timers do not count time spent
 *   suspended: a check soon after waking sees the wall clock and catches up.
 */
import { newProcessOwner, ownerState } from '../store/claim-owner.js';
import { RelayError, describeError, isRelayError } from '../errors.js';
import type { Clock, Logger, Notifier } from '../ports.js';
import { systemClock } from '../ports.js';
import type { CronStore, MonitorKind, MonitorRecord, RunRecord, RunTrigger } from '../store/cron-store.js';
import { deliver } from './delivery.js';
import { formatDigest, formatHeartbeat } from './digest.js';
import type { AgentRunner, DigestSource, SlackPoster } from './ports.js';
import { estimatePromptCost } from './prompt-cost.js';
import { DEFAULT_MODEL } from '../config/keys.js';
import { parseSchedule, plannedBetween, restoreSchedule, type Schedule } from './schedule.js';
import { describeTarget, formatTarget, parseTarget } from './targets.js';
import { systemTimeZone } from './tz.js';

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [10_000, 30_000, 60_000, 120_000, 300_000];
export const DEFAULT_MAX_GRACE_MS = 15 * 60_000;
export const DEFAULT_HEARTBEAT_MIN_RUN_SECONDS = 3600;
/** Missed runs up to this many get a ledger row each; more become one row that says how many. */
export const SKIPPED_ROWS_MAX = 20;

/** Errors that mean "the network is not back yet": worth a retry, unlike a refused token. */
const NETWORK_CODES: ReadonlySet<string> = new Set(['SSH_DNS', 'SSH_UNREACHABLE', 'SSH_TIMEOUT', 'SSH_DISCONNECTED', 'SSH_CHANNEL_FAILED', 'SLACK_UNREACHABLE']);

export function isNetworkNotBack(e: unknown): boolean {
  return isRelayError(e) && NETWORK_CODES.has(e.code);
}

export const SKIP_REASONS = {
  asleep: 'missed while asleep',
  notRunning: 'missed while HPC Relay was not running',
  overlap: 'previous run still going',
} as const;

export interface CronServiceOptions {
  store: CronStore;
  logger: Logger;
  clock?: Clock;
  digest?: DigestSource | undefined;
  agent?: AgentRunner | undefined;
  slack?: SlackPoster | undefined;
  notifier?: Notifier | undefined;
  /** slack.homeChannel, read at delivery time. */
  homeChannel?: () => string | undefined;
  /** llm.model, for the cost estimate of prompt monitors. */
  model?: () => string;
  /** Time zone for new monitors without one (default: the system's). */
  defaultTimezone?: string;
  retryDelaysMs?: readonly number[];
  /** Longest wait between scheduler checks (default 15 s). */
  maxTickMs?: number;
  /** Cap of the default grace window (default 15 min). */
  maxGraceMs?: number;
  /** How long stop() waits for runs in progress (default 10 s). */
  stopTimeoutMs?: number;
  /** Identifies this process in the ledger (default host:pid:random). */
  owner?: string;
  /** Relative file:PATH targets resolve against this (default process.cwd()). */
  cwd?: string;
}

export interface CreateMonitorInput {
  schedule: string;
  /** Default: prompt when a prompt is given, else digest. */
  kind?: MonitorKind;
  /** slack | dm:U… | tray | file:PATH (default slack). */
  to?: string;
  name?: string;
  prompt?: string;
  /** Stop after this many runs (1 = a one-off). */
  repeat?: number;
  timezone?: string;
  /** How late a missed run may still run on wake (default min(interval, 15 min)). */
  graceMs?: number;
  /** Heartbeat: only jobs running at least this long (default 1 h). */
  minRunSeconds?: number;
}

export interface RunView {
  id: number;
  plannedAt: number;
  plannedUntil: number | null;
  covers: number;
  trigger: RunTrigger;
  startedAt: number | null;
  endedAt: number | null;
  outcome: RunRecord['outcome'];
  reason: string | null;
  errorCode: string | null;
  deliveredTo: string | null;
  attempts: number;
}

export interface MonitorSummary {
  id: string;
  name: string;
  /** The schedule as the user wrote it ("every 5m", "0 9 * * 1-5"). */
  schedule: string;
  /** What runs it: a cron expression or "every 45m". */
  expression: string;
  /** "every 5 minutes", "weekdays at 18:00". */
  description: string;
  timezone: string;
  kind: MonitorKind;
  prompt: string | null;
  target: string;
  targetDescription: string;
  status: MonitorRecord['status'];
  paused: boolean;
  repeat: number | null;
  runsLeft: number | null;
  /** Epoch ms of the next planned run; null when paused or finished. */
  nextRunAt: number | null;
  /** "ok", "failed: …", "skipped: …", "running", or null before the first run. */
  lastOutcome: string | null;
  lastRun: RunView | null;
  /** Prompt monitors: "≈ $0.06 per run (…)". */
  costPerRun: string | null;
  costPerRunUsd: number | null;
  createdAt: number;
}

interface Sleeper {
  wake(): void;
}

function runView(r: RunRecord): RunView {
  return {
    id: r.id, plannedAt: r.plannedAt, plannedUntil: r.plannedUntil, covers: r.covers, trigger: r.trigger, startedAt: r.startedAt,
    endedAt: r.endedAt, outcome: r.outcome, reason: r.reason, errorCode: r.errorCode, deliveredTo: r.deliveredTo, attempts: r.attempts,
  };
}

function outcomeText(r: RunRecord | undefined): string | null {
  if (!r) return null;
  if (r.outcome === 'ok') return r.reason ? `ok: ${r.reason}` : 'ok';
  if (r.outcome === 'running') return r.attempts > 0 ? `running (retrying: ${r.reason ?? 'network'})` : 'running';
  return `${r.outcome}: ${r.reason ?? 'no reason recorded'}`;
}

function parseId(id: string | number): number {
  const n = typeof id === 'number' ? id : /^\s*#?(\d{1,12})\s*$/.exec(id)?.[1];
  const v = Number(n);
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RelayError('CRON_NOT_FOUND', `"${String(id)}" is not a monitor ID.`, { fix: 'IDs are numbers; `hpc-relay cron list` shows them.' });
  }
  return v;
}

export class CronService {
  private readonly store: CronStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retryDelays: readonly number[];
  private readonly maxTickMs: number;
  private readonly maxGraceMs: number;
  readonly owner: string;
  private started = false;
  private stopping = false;
  private timer: { cancel(): void } | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly sleepers = new Set<Sleeper>();
  private ports: { digest?: DigestSource | undefined; agent?: AgentRunner | undefined; slack?: SlackPoster | undefined; notifier?: Notifier | undefined };

  constructor(private readonly opts: CronServiceOptions) {
    this.ports = { digest: opts.digest, agent: opts.agent, slack: opts.slack, notifier: opts.notifier };
    this.store = opts.store;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'cron' });
    this.retryDelays = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.maxTickMs = opts.maxTickMs ?? 15_000;
    this.maxGraceMs = opts.maxGraceMs ?? DEFAULT_MAX_GRACE_MS;
    this.owner = opts.owner ?? newProcessOwner();
  }

  /** Plugs in (or, with undefined, takes away) ports that other services provide once they run. */
  attach(ports: { digest?: DigestSource | undefined; agent?: AgentRunner | undefined; slack?: SlackPoster | undefined; notifier?: Notifier | undefined }): void {
    this.ports = { ...this.ports, ...ports };
  }

  // -------------------------------------------------------------------------------------------
  // Operations
  // -------------------------------------------------------------------------------------------

  async create(input: CreateMonitorInput): Promise<MonitorSummary> {
    const now = this.clock.now();
    const timezone = input.timezone?.trim() || this.opts.defaultTimezone || systemTimeZone();
    const schedule = parseSchedule(input.schedule, timezone);
    const prompt = input.prompt?.trim() || undefined;
    const kind: MonitorKind = input.kind ?? (prompt ? 'prompt' : 'digest');
    if (kind === 'prompt' && !prompt) throw new RelayError('CRON_INVALID_OPTION', 'A prompt monitor needs the prompt to run.', { fix: 'Add --prompt "…", or use --kind digest, which needs none.' });
    if (kind !== 'prompt' && prompt) throw new RelayError('CRON_INVALID_OPTION', `A ${kind} monitor takes no prompt.`, { fix: 'Use --kind prompt to run an agent prompt, or leave out --prompt.' });
    if (prompt && prompt.length > 8000) throw new RelayError('CRON_INVALID_OPTION', `The prompt is ${prompt.length} characters; the most is 8000.`, { fix: 'Shorten it.' });
    const target = parseTarget(input.to ?? 'slack', this.opts.cwd);
    if (input.repeat !== undefined && (!Number.isSafeInteger(input.repeat) || input.repeat < 1)) {
      throw new RelayError('CRON_INVALID_OPTION', `The repeat count must be a whole number, at least 1 (got ${input.repeat}).`, { fix: 'Use --repeat 1 for a one-off run, or leave it out to run until removed.' });
    }
    if (input.graceMs !== undefined && (!Number.isFinite(input.graceMs) || input.graceMs < 0 || input.graceMs > 7 * 86_400_000)) {
      throw new RelayError('CRON_INVALID_OPTION', 'The grace window must be between 0 and 7 days.', { fix: 'Use --grace 10m, for example.' });
    }
    if (input.minRunSeconds !== undefined && (!Number.isFinite(input.minRunSeconds) || input.minRunSeconds < 0)) {
      throw new RelayError('CRON_INVALID_OPTION', 'The heartbeat threshold must be 0 seconds or more.', { fix: 'Use --min-runtime 1h, for example.' });
    }
    const name = (input.name?.trim() || this.defaultName(kind, prompt)).slice(0, 80);
    const rec = this.store.insertMonitor({
      name,
      scheduleInput: schedule.input,
      expression: schedule.expression,
      description: schedule.description,
      timezone,
      kind,
      prompt: prompt ?? null,
      target: formatTarget(target),
      repeat: input.repeat ?? null,
      graceMs: input.graceMs ?? null,
      minRunSeconds: kind === 'heartbeat' ? (input.minRunSeconds ?? DEFAULT_HEARTBEAT_MIN_RUN_SECONDS) : null,
      status: 'active',
      cursorMs: now,
      createdAt: now,
    });
    this.log.info('monitor created', { id: rec.id, kind, schedule: schedule.expression, timezone, target: rec.target });
    this.kick();
    return this.summary(rec, now);
  }

  async list(): Promise<MonitorSummary[]> {
    const now = this.clock.now();
    return this.store.listMonitors().map((m) => this.summary(m, now));
  }

  async get(id: string | number): Promise<MonitorSummary> {
    return this.summary(this.mustGet(id), this.clock.now());
  }

  /** The ledger, newest first. */
  async runs(id: string | number, limit = 20): Promise<RunView[]> {
    return this.store.runs(this.mustGet(id).id, limit).map(runView);
  }

  /** Stops planning runs (a run in progress finishes). Pausing a paused or finished monitor is a no-op. */
  async pause(id: string | number): Promise<void> {
    const m = this.mustGet(id);
    if (m.status === 'active') {
      this.store.setStatus(m.id, 'paused', this.clock.now());
      this.log.info('monitor paused', { id: m.id });
    }
  }

  /** Runs again from now on; the time it spent paused is not "missed". */
  async resume(id: string | number): Promise<void> {
    const m = this.mustGet(id);
    const now = this.clock.now();
    if (m.status === 'finished') {
      throw new RelayError('CRON_FINISHED', `Monitor ${m.id} has finished its ${m.repeat ?? 0} run${m.repeat === 1 ? '' : 's'}.`, {
        fix: 'Create a new one with `hpc-relay cron create`.',
      });
    }
    if (m.status === 'paused') {
      this.store.setStatus(m.id, 'active', now, now);
      this.log.info('monitor resumed', { id: m.id });
      this.kick();
    }
  }

  /** Deletes the monitor and its ledger; a run in progress finishes but is not recorded. */
  async remove(id: string | number): Promise<void> {
    const m = this.mustGet(id);
    this.store.deleteMonitor(m.id);
    this.log.info('monitor removed', { id: m.id });
  }

  /** Runs a monitor once now (outside its schedule and repeat count); resolves with the ledger row. */
  async runNow(id: string | number): Promise<RunView> {
    const m = this.mustGet(id);
    const now = this.clock.now();
    const runId = this.store.immediate(() => this.store.startRun({ monitorId: m.id, plannedAt: now, trigger: 'manual', at: now, owner: this.owner }));
    if (runId === null) {
      throw new RelayError('CRON_INVALID_OPTION', `Monitor ${m.id} is running right now.`, { fix: 'Wait for that run to finish; `hpc-relay cron list` shows its outcome.' });
    }
    await this.launch(m, runId, now);
    const r = this.store.getRun(runId);
    if (!r) throw new RelayError('CRON_NOT_FOUND', `Monitor ${m.id} was removed during the run.`);
    return runView(r);
  }

  // -------------------------------------------------------------------------------------------
  // Scheduler
  // -------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.recoverInterrupted();
    await this.evaluate('start');
  }

  /** After sleep (the Runtime's resume()): catch up, and retry at once what was waiting for the network. */
  async wake(): Promise<void> {
    if (!this.started) return;
    for (const s of [...this.sleepers]) s.wake();
    await this.evaluate('resume');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.started = false;
    this.timer?.cancel();
    this.timer = null;
    for (const s of [...this.sleepers]) s.wake();
    await this.chain;
    const pending = [...this.inflight.values()];
    if (pending.length) {
      let t: { cancel(): void } | undefined;
      await Promise.race([
        Promise.allSettled(pending),
        new Promise<void>((resolve) => { t = this.clock.setTimeout(resolve, this.opts.stopTimeoutMs ?? 10_000); }),
      ]);
      t?.cancel();
    }
  }

  /** Resolves when no check and no run is in progress (tests, and orderly shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain;
      const pending = [...this.inflight.values()];
      if (!pending.length) return;
      await Promise.allSettled(pending);
    }
  }

  get running(): boolean {
    return this.started;
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private defaultName(kind: MonitorKind, prompt: string | undefined): string {
    if (kind === 'digest') return 'Job digest';
    if (kind === 'heartbeat') return 'Heartbeat';
    const p = (prompt ?? '').replace(/\s+/g, ' ');
    return p.length > 40 ? `${p.slice(0, 39)}…` : p || 'Prompt';
  }

  private mustGet(id: string | number): MonitorRecord {
    const n = parseId(id);
    const m = this.store.getMonitor(n);
    if (!m) throw new RelayError('CRON_NOT_FOUND', `There is no monitor ${n}.`, { fix: '`hpc-relay cron list` shows the IDs.' });
    return m;
  }

  private schedule(m: MonitorRecord): Schedule {
    return restoreSchedule(m.scheduleInput, m.expression, m.description, m.timezone);
  }

  private summary(m: MonitorRecord, now: number): MonitorSummary {
    let next: number | null = null;
    if (m.status === 'active') {
      try {
        next = this.schedule(m).next(Math.max(m.cursorMs, now));
      } catch (e) {
        this.log.warn('monitor schedule unreadable', { id: m.id, error: describeError(e) });
      }
    }
    const last = this.store.lastRun(m.id);
    const cost = m.kind === 'prompt' && m.prompt ? estimatePromptCost(m.prompt, this.opts.model?.() ?? DEFAULT_MODEL) : null;
    let targetDescription = m.target;
    try { targetDescription = describeTarget(parseTarget(m.target)); } catch { /* shown as stored */ }
    return {
      id: String(m.id),
      name: m.name,
      schedule: m.scheduleInput,
      expression: m.expression,
      description: m.description,
      timezone: m.timezone,
      kind: m.kind,
      prompt: m.prompt,
      target: m.target,
      targetDescription,
      status: m.status,
      paused: m.status === 'paused',
      repeat: m.repeat,
      runsLeft: m.repeat === null ? null : Math.max(0, m.repeat - m.runsStarted),
      nextRunAt: next,
      lastOutcome: outcomeText(last),
      lastRun: last ? runView(last) : null,
      costPerRun: cost?.text ?? null,
      costPerRunUsd: cost?.usd ?? null,
      createdAt: m.createdAt,
    };
  }

  /** Re-checks soon, for a monitor created or resumed while the scheduler runs. */
  private kick(): void {
    if (this.started && !this.stopping) void this.evaluate('tick');
  }

  /** Rows left 'running' by a process that is gone: it stopped mid-run. */
  private recoverInterrupted(): void {
    const now = this.clock.now();
    for (const r of this.store.allRunning()) {
      // Another running process on this host is still in its run; anything else stopped mid-run.
      if (ownerState(r.owner, this.owner) === 'live') continue;
      this.store.finishRun(r.id, { outcome: 'failed', endedAt: now, attempts: r.attempts, reason: 'interrupted: HPC Relay stopped during the run', errorCode: r.errorCode });
      this.log.warn('run interrupted by a stop', { monitor: r.monitorId, run: r.id });
    }
  }

  private evaluate(reason: 'start' | 'resume' | 'tick'): Promise<void> {
    const next = this.chain.then(() => this.evaluateNow(reason)).catch((e: unknown) => this.log.error('cron check failed', { error: describeError(e) }));
    this.chain = next;
    return next;
  }

  private evaluateNow(reason: 'start' | 'resume' | 'tick'): void {
    if (!this.started || this.stopping) return;
    const now = this.clock.now();
    for (const m of this.store.listMonitors()) {
      if (m.status !== 'active') continue;
      try {
        // Most checks find nothing due: decide that without taking the write lock.
        const due = this.schedule(m).next(m.cursorMs);
        if (due === null || due > now) continue;
        this.evaluateMonitor(m.id, now, reason);
      } catch (e) {
        this.log.error('monitor check failed', { id: m.id, error: describeError(e) });
      }
    }
    this.arm(now);
  }

  private graceFor(m: MonitorRecord, schedule: Schedule, planned: number): number {
    if (m.graceMs !== null) return m.graceMs;
    const after = schedule.next(planned);
    const interval = after === null ? this.maxGraceMs : after - planned;
    return Math.min(interval, this.maxGraceMs);
  }

  /** Handles every planned time in (cursor, now] of one monitor, in one transaction. */
  private evaluateMonitor(id: number, now: number, reason: 'start' | 'resume' | 'tick'): void {
    const launch = this.store.immediate((): { m: MonitorRecord; runId: number; planned: number } | null => {
      const m = this.store.getMonitor(id);
      if (!m || m.status !== 'active') return null;
      const schedule = this.schedule(m);
      const span = plannedBetween(schedule, m.cursorMs, now, SKIPPED_ROWS_MAX + 1);
      if (span.last === null) return null;
      const last = span.last;
      const late = now - last;
      const runnable = late <= this.graceFor(m, schedule, last);
      const missedWord = reason === 'start' ? SKIP_REASONS.notRunning : SKIP_REASONS.asleep;
      const missed = runnable ? span.count - 1 : span.count;
      if (missed > 0) {
        if (missed <= SKIPPED_ROWS_MAX) {
          for (const t of span.times.slice(0, missed)) this.store.insertSkipped({ monitorId: m.id, plannedAt: t, trigger: 'catch-up', reason: missedWord, at: now });
        } else {
          const first = span.times[0] ?? last;
          const newest = runnable ? (plannedBetween(schedule, Math.max(m.cursorMs, last - 8 * 86_400_000), last - 1, 0).last ?? first) : last;
          const more = span.capped ? 'more than ' : '';
          this.store.insertSkipped({ monitorId: m.id, plannedAt: first, plannedUntil: newest, covers: missed, trigger: 'catch-up', reason: `${missedWord} (${more}${missed} planned runs)`, at: now });
        }
        this.log.info('missed runs recorded as skipped', { id: m.id, missed, reason: missedWord });
      }
      this.store.advanceCursor(m.id, last, now);
      if (!runnable) return null;
      const trigger: RunTrigger = span.count === 1 && late <= 60_000 ? 'schedule' : 'catch-up';
      if (this.store.runningRun(m.id)) {
        this.store.insertSkipped({ monitorId: m.id, plannedAt: last, trigger, reason: SKIP_REASONS.overlap, at: now });
        this.log.info('run skipped: previous run still going', { id: m.id });
        return null;
      }
      if (m.repeat !== null && m.runsStarted >= m.repeat) return null;
      const runId = this.store.startRun({ monitorId: m.id, plannedAt: last, trigger, at: now, owner: this.owner });
      if (runId === null) return null;
      this.store.countRunStarted(m.id, now);
      return { m, runId, planned: last };
    });
    if (launch) void this.launch(launch.m, launch.runId, launch.planned);
  }

  private arm(now: number): void {
    this.timer?.cancel();
    this.timer = null;
    if (!this.started || this.stopping) return;
    let due = Number.POSITIVE_INFINITY;
    for (const m of this.store.listMonitors()) {
      if (m.status !== 'active') continue;
      try {
        const n = this.schedule(m).next(Math.max(m.cursorMs, now - 1));
        if (n !== null && n < due) due = n;
      } catch {
        /* logged by evaluate */
      }
    }
    const delay = Math.max(0, Math.min(this.maxTickMs, due - now));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.evaluate('tick');
    }, delay);
  }

  private launch(m: MonitorRecord, runId: number, planned: number): Promise<void> {
    const p = this.execute(m, runId, planned)
      .catch((e: unknown) => this.log.error('monitor run crashed', { id: m.id, error: describeError(e) }))
      .finally(() => {
        if (this.inflight.get(m.id) === p) this.inflight.delete(m.id);
      });
    this.inflight.set(m.id, p);
    return p;
  }

  private async produce(m: MonitorRecord): Promise<string | null> {
    if (m.kind === 'prompt') {
      if (!this.ports.agent) {
        throw new RelayError('AGENT_NOT_ENABLED', `The agent is not enabled, so prompt monitor ${m.id} cannot run.`, {
          fix: 'Set llm.enabled to true and the Anthropic API key (`hpc-relay secrets set anthropic-api-key`), or use a digest monitor, which needs no agent.',
        });
      }
      const r = await this.ports.agent.run({ prompt: m.prompt ?? '', monitorId: String(m.id), monitorName: m.name });
      return `${m.name}\n${r.text}`;
    }
    if (!this.ports.digest) {
      throw new RelayError('SSH_NOT_CONFIGURED', `No cluster is configured, so monitor ${m.id} has no jobs to report on.`, {
        fix: 'Set cluster.host (`hpc-relay config set cluster.host hpc`).',
      });
    }
    const jobs = await this.ports.digest.listJobs();
    if (m.kind === 'heartbeat') return formatHeartbeat(jobs, m.minRunSeconds ?? DEFAULT_HEARTBEAT_MIN_RUN_SECONDS);
    return formatDigest(jobs, m.name);
  }

  private async execute(m: MonitorRecord, runId: number, planned: number): Promise<void> {
    const schedule = this.schedule(m);
    const target = parseTarget(m.target);
    for (let attempt = 1; ; attempt++) {
      try {
        const text = await this.produce(m);
        const deliveredTo = text === null
          ? null
          : await deliver(target, { monitorId: String(m.id), monitorName: m.name, text, at: this.clock.now(), timezone: m.timezone }, {
            slack: this.ports.slack,
            notifier: this.ports.notifier,
            homeChannel: this.opts.homeChannel ?? (() => undefined),
          });
        this.store.finishRun(runId, { outcome: 'ok', endedAt: this.clock.now(), attempts: attempt, deliveredTo, reason: text === null ? 'nothing to report' : null });
        this.log.info('monitor ran', { id: m.id, run: runId, attempts: attempt, deliveredTo });
        break;
      } catch (e) {
        const code = isRelayError(e) ? e.code : null;
        const message = describeError(e);
        const delay = this.retryDelays[attempt - 1];
        const nextPlanned = schedule.next(planned);
        const retryAt = this.clock.now() + (delay ?? 0);
        const canRetry = isNetworkNotBack(e) && delay !== undefined && !this.stopping && this.started && (nextPlanned === null || retryAt < nextPlanned);
        if (canRetry) {
          this.store.setAttempts(runId, attempt, message, code);
          this.log.warn('monitor run failed; retrying', { id: m.id, run: runId, attempt, code, retryInMs: delay });
          const woke = await this.sleep(delay);
          if (woke) continue;
          this.store.finishRun(runId, { outcome: 'failed', endedAt: this.clock.now(), attempts: attempt, errorCode: code, reason: `HPC Relay stopped while waiting for the network to come back: ${message}` });
          break;
        }
        const why = isNetworkNotBack(e) && attempt > 1 ? `${message} (gave up after ${attempt} attempts; the next planned run tries again)` : message;
        this.store.finishRun(runId, { outcome: 'failed', endedAt: this.clock.now(), attempts: attempt, errorCode: code, reason: why });
        this.log.warn('monitor run failed', { id: m.id, run: runId, attempts: attempt, code, error: message });
        break;
      }
    }
    this.finishIfDone(m.id);
  }

  private finishIfDone(id: number): void {
    const m = this.store.getMonitor(id);
    if (m && m.status === 'active' && m.repeat !== null && m.runsStarted >= m.repeat && !this.store.runningRun(id)) {
      this.store.setStatus(id, 'finished', this.clock.now());
      this.log.info('monitor finished its runs', { id, repeat: m.repeat });
    }
  }

  /** Waits `ms` on the clock; false when woken by stop(), true on time or when woken by resume(). */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s: Sleeper = {
        wake: () => {
          t.cancel();
          this.sleepers.delete(s);
          resolve(!this.stopping);
        },
      };
      const t = this.clock.setTimeout(() => {
        this.sleepers.delete(s);
        resolve(!this.stopping);
      }, ms);
      this.sleepers.add(s);
    });
  }
}
