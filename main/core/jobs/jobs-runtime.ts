import type { SshSession } from '../cluster/ssh-session.js';
import type { Settings } from '../config/settings-types.js';
import { describeError, isRelayError } from '../errors.js';
import type { Core } from '../index.js';
import { NotifyDispatcher, type NotifyChannels } from '../notify/dispatcher.js';
import { composeSweepEnd, sweepNoun } from '../notify/sweep-messages.js';
import { SWEEP_FINISHED, type SweepFacts } from '../store/sweep-facts.js';
import type { Clock, Logger, StatusBoard, StatusSnapshot } from '../ports.js';
import type { Service, ServiceFactory } from '../runtime/runtime.js';
import type { FinalizeResult } from '../store/job-store.js';
import { CompletionWatcher, type WatcherDeps } from './completion-watcher.js';
import type { JobService } from './job-service.js';

export interface JobsRuntimeDeps {
  jobs: JobService;
  session: () => SshSession;
  channels: NotifyChannels;
  settings: () => Settings;
  clock: Clock;
  logger: Logger;
  status?: StatusBoard;
  /** Overrides cluster.pollSeconds (tests); the setting's minimum of 30 s still applies to users. */
  pollMs?: number;
  /** Events-file rotation (tests: a small size to rotate at, a short settle time). */
  watcher?: Pick<WatcherDeps, 'rotateBytes' | 'settleMs'>;
}

/** Jobs whose files one final metric read covers (a job has 3 to 5 files: log, metrics.csv, summary.json). */
const FINAL_READ_GROUP = 50;
/** Chunks of 256 KB read of each task's log of a terminal job array at its end (its last 1 MB). */
const ARRAY_TASK_READS = 4;

export interface LiveCheck {
  jobKey: string;
  action: 'cancelled' | 'warned';
}

/**
 * The job side of the app and the daemon: the poll tick (one squeue + one sacct for all jobs,
 * every cluster.pollSeconds), the events-file watcher that notices ends within seconds, the
 * notify dispatcher, triage actions, and live NaN/inf checks of running jobs' metrics.
 */
export class JobsRuntime implements Service {
  readonly name = 'jobs';
  readonly restartOn = ['cluster.', 'notify.', 'triage.', 'slack.enabled'] as const;
  readonly watcher: CompletionWatcher;
  readonly dispatcher: NotifyDispatcher;
  private timer: { cancel(): void } | null = null;
  private running = false;
  private ticking: Promise<void> | null = null;
  /** Final metric reads, by job: done or in flight (shared by the end event and the job's Slack report). */
  private readonly finalReads = new Map<string, Promise<void>>();
  /** Terminal job arrays whose tasks' logs were read at their end, by sweep id (see catchUpArray). */
  private readonly arrayReads = new Map<string, Promise<void>>();
  /** Jobs ended in the same tick or reconcile share one read (see finalMetrics). */
  private readBatch: { keys: string[]; done: Promise<void> } | null = null;
  private readonly onFinal = (r: FinalizeResult) => {
    this.deps.logger.info('job ended', { job: r.job.jobKey, state: r.job.state, exit: r.job.exitCode, source: r.transition.source, triage: r.decision.action });
    void this.finalMetrics(r.job.jobKey).finally(() => this.dispatcher.flush());
    // A staged sweep's next stage goes out as soon as the one before it has ended.
    if (r.job.arrayTask !== null) void this.deps.jobs.rollouts.advance().finally(() => this.dispatcher.flush());
    if (r.decision.action !== 'none' && r.decision.action !== 'notify') void this.deps.jobs.runTriageActions().catch((e: unknown) => this.deps.logger.warn('triage actions failed', { error: describeError(e) }));
    this.publish();
  };
  private readonly onTransition = () => this.publish();
  private unwatchStatus: (() => void) | null = null;
  private slackState: string | null = null;
  /** Slack back (connected again, or at last): reports that waited for it go out now, not at the next retry. */
  private readonly onStatus = (s: StatusSnapshot) => {
    const was = this.slackState;
    this.slackState = s.slack.state;
    if (s.slack.state === 'connected' && was !== 'connected' && this.running) void this.dispatcher.flush();
  };

  constructor(private readonly deps: JobsRuntimeDeps) {
    const { jobs } = deps;
    this.dispatcher = new NotifyDispatcher(jobs.outbox, this.withRolloutSilence(this.withFinalMetrics(deps.channels)), deps.clock, deps.logger.child({ component: 'notify' }));
    this.watcher = new CompletionWatcher({
      session: deps.session, files: jobs.files, eventsPath: () => jobs.eventsPath(), tracker: jobs.tracker, store: jobs.store, cursors: jobs.metrics, clock: deps.clock,
      logger: deps.logger.child({ component: 'completion-watcher' }), ...deps.watcher,
    });
  }

  async start(): Promise<void> {
    this.running = true;
    this.deps.jobs.tracker.on('final', this.onFinal);
    this.deps.jobs.tracker.on('transition', this.onTransition);
    this.slackState = this.deps.status?.snapshot().slack.state ?? null;
    this.unwatchStatus = this.deps.status?.subscribe(this.onStatus) ?? null;
    // Notifications left undelivered by a crash or a missing channel go out first.
    await this.dispatcher.start().catch((e: unknown) => this.deps.logger.warn('notify dispatcher failed', { error: describeError(e) }));
    this.watcher.start();
    this.publish();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unwatchStatus?.();
    this.unwatchStatus = null;
    this.timer?.cancel();
    this.timer = null;
    this.watcher.stop();
    await this.ticking?.catch(() => undefined);
    await this.dispatcher.flush().catch(() => 0);
    this.dispatcher.stop();
    this.deps.jobs.tracker.off('final', this.onFinal);
    this.deps.jobs.tracker.off('transition', this.onTransition);
  }

  /** After sleep: the stream may be dead; reopen it (which reconciles) and check now. */
  async resume(): Promise<void> {
    this.watcher.restart();
    await this.tickNow();
  }

  private pollMs(): number {
    return this.deps.pollMs ?? this.deps.settings().cluster.pollSeconds * 1000;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer?.cancel();
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.tickNow().finally(() => this.schedule(this.pollMs()));
    }, ms);
  }

  /** One tick now: scheduler check, live metrics of running jobs, triage actions, deliveries. */
  tickNow(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        await this.deps.jobs.refresh();
        await this.checkLiveMetrics();
        await this.deps.jobs.runTriageActions();
      } catch (e) {
        this.deps.logger.warn('job tick failed', { error: describeError(e) });
      } finally {
        await this.dispatcher.flush().catch(() => 0);
        this.publish();
      }
    })().finally(() => { this.ticking = null; });
    return this.ticking;
  }

  /**
   * NaN/inf in a running app job's metrics: cancel it in remediate mode, warn otherwise — once per
   * job (the outbox row for the warning is unique per job).
   */
  async checkLiveMetrics(): Promise<LiveCheck[]> {
    const { jobs, clock } = this.deps;
    const running = jobs.store.unfinished().filter((j) => j.state === 'RUNNING' && j.submissionId !== null);
    if (running.length === 0) return [];
    const out: LiveCheck[] = [];
    for (const r of await jobs.metricsReader.refresh(running.map((j) => j.jobKey))) {
      if (r.nonFinite.length === 0) continue;
      if (jobs.store.events(r.jobKey).some((e) => e.kind === 'metrics-nonfinite')) continue;
      const first = r.nonFinite[0];
      const what = first ? `${first.series}=${first.raw} at ${first.stepName ?? 'step'} ${first.step}` : 'a non-finite value';
      const remediate = this.deps.settings().triage.mode === 'remediate';
      jobs.store.addEvent(r.jobKey, 'metrics-nonfinite', { points: r.nonFinite.slice(0, 5), action: remediate ? 'cancel' : 'warn' }, clock.now());
      const s = this.deps.settings();
      const channels = [...(s.notify.tray ? ['tray'] : []), ...(s.notify.slack && s.slack.enabled ? ['slack'] : [])];
      const job = jobs.store.get(r.jobKey);
      const body = remediate ? 'Its metrics went NaN/inf, so HPC Relay cancelled it (triage.mode is remediate).' : 'Its metrics went NaN/inf; it is still running (set triage.mode to remediate to cancel such jobs).';
      // The payload has a job report's fields (the Slack reporter reads it like a job end), with the warning as its note.
      jobs.outbox.enqueue(r.jobKey, 'NONFINITE_METRICS', channels, {
        title: `⚠ job ${r.jobKey}: ${what}`,
        body,
        payload: {
          jobId: r.jobKey, name: job?.name ?? '', state: job?.state ?? 'RUNNING', exitCode: null, elapsedSec: job?.elapsedSec ?? null, timeLimitSec: job?.timeLimitSec ?? null,
          maxRssBytes: job?.maxRssBytes ?? null, reqMemBytes: job?.reqMemBytes ?? null, nodeList: job?.nodeList ?? null, adopted: false, failureClass: 'nonfinite-metrics',
          triage: { action: remediate ? 'cancel' : 'notify', reason: `${what}: ${body}` }, points: r.nonFinite.slice(0, 5),
        },
      }, clock.now());
      if (remediate) {
        await jobs.cancel(r.jobKey).catch((e: unknown) => this.deps.logger.warn('could not cancel a job with NaN metrics', { job: r.jobKey, error: describeError(e) }));
        out.push({ jobKey: r.jobKey, action: 'cancelled' });
      } else {
        out.push({ jobKey: r.jobKey, action: 'warned' });
      }
    }
    return out;
  }

  /**
   * A job's report carries its metrics, but the live read only runs for RUNNING jobs on the poll
   * tick: a job that ends between two ticks (a short run, or one that writes metrics.csv last)
   * would be reported with none, and `status` would show no best value. So an app job's files are
   * read once more when it ends (only the bytes not read yet), before its Slack report goes out.
   * Jobs that end together share one remote command (in groups of FINAL_READ_GROUP). A failed
   * read holds nothing back: the report goes out with what the store has, and a later report
   * of the same job tries again.
   */
  finalMetrics(jobKey: string): Promise<void> {
    const { jobs } = this.deps;
    const job = jobs.store.get(jobKey);
    if (!job) return Promise.resolve();
    const known = this.finalReads.get(jobKey);
    if (known) return known;
    if (!job.submissionId) return job.final && job.arrayTask === null ? this.remember(jobKey, this.catchUpAdopted(jobKey)) : Promise.resolve();
    if (!this.readBatch) {
      const batch: { keys: string[]; done: Promise<void> } = { keys: [], done: Promise.resolve() };
      // The tracker emits every end of one sacct answer in one synchronous loop: read after it.
      batch.done = Promise.resolve().then(async () => {
        if (this.readBatch === batch) this.readBatch = null;
        for (let i = 0; i < batch.keys.length; i += FINAL_READ_GROUP) {
          const group = batch.keys.slice(i, i + FINAL_READ_GROUP);
          await jobs.metricsReader.refresh(group).catch((e: unknown) => {
            this.deps.logger.warn('could not read the metrics of ended jobs', { jobs: group.length, error: describeError(e) });
            for (const k of group) this.finalReads.delete(k);
          });
        }
      });
      this.readBatch = batch;
    }
    this.readBatch.keys.push(jobKey);
    const done = this.readBatch.done;
    // Only an ended job's read is final; a running job's (a NaN warning's report) is read each time.
    return job.final ? this.remember(jobKey, done) : done;
  }

  private remember(jobKey: string, read: Promise<void>): Promise<void> {
    this.finalReads.set(jobKey, read);
    if (this.finalReads.size > 1000) this.finalReads.delete(this.finalReads.keys().next().value ?? '');
    return read;
  }

  /**
   * A single job submitted elsewhere, at its end: where its output went is asked for (if the
   * queue's look did not keep it yet) while the scheduler still knows, and its log's metric lines
   * are read to the end (nobody read them while it ran), so its report, the window's charts and
   * `status` have its numbers whether Slack is on or not. An array's tasks are not read one by one
   * here (a 100-task array would cost 100 reads): they are read together at the array's end
   * (catchUpArray). A failure is logged and forgotten, so a later report of the job tries again.
   */
  private async catchUpAdopted(jobKey: string): Promise<void> {
    const { jobs, logger } = this.deps;
    try {
      await jobs.outputPaths(jobKey);
      await jobs.catchUpMetrics(jobKey);
    } catch (e) {
      this.finalReads.delete(jobKey);
      if (isRelayError(e) && e.code === 'JOB_OUTPUT_UNKNOWN') logger.info('the output file of a job submitted elsewhere is not known', { job: jobKey });
      else logger.warn('could not read the metrics of a job submitted elsewhere', { job: jobKey, error: describeError(e) });
    }
  }

  /**
   * Both channels, without the ends a stopped staged rollout made (tasks it never released,
   * cancelled): its one ROLLOUT_HALTED notification speaks for them. Their rows are marked
   * delivered like any other, so they are not offered again.
   */
  private withRolloutSilence(channels: NotifyChannels): NotifyChannels {
    const rollouts = this.deps.jobs.rollouts;
    const { tray, slack } = channels;
    return {
      ...(tray ? {
        tray: {
          notify: async (n) => {
            // The dispatcher's id: hpc-relay:job:<job>:<final state>:tray.
            const [, , key = '', state = ''] = n.id.split(':');
            if (!rollouts.silenced(key, state)) await tray.notify(n);
          },
        },
      } : {}),
      ...(slack ? {
        slack: {
          reportJobEnd: async (report) => {
            if (!rollouts.silenced(report.jobId, report.state)) await slack.reportJobEnd(report);
          },
          ...(slack.reportSweepEnd ? { reportSweepEnd: slack.reportSweepEnd.bind(slack) } : {}),
        },
      } : {}),
    };
  }

  /**
   * A sweep's facts as they stand once every task's final metric read is done: the sweep-end row
   * was written when the last task ended, before its own metrics were read.
   */
  private async freshSweepFacts(sweepId: string, fallback: SweepFacts | null): Promise<SweepFacts | null> {
    const store = this.deps.jobs.store;
    const keys = (store.sweepFacts(sweepId) ?? fallback)?.tasks.map((t) => t.jobKey) ?? [];
    await this.endMetrics(keys);
    return store.sweepFacts(sweepId) ?? fallback;
  }

  /**
   * The end-of-job metric reads of these ended jobs, done: what a job's or an array's report waits
   * for (`hpc-relay watch JOB` too, before its summary). The tasks of a terminal's job array are
   * read together, the rest job by job (finalMetrics).
   */
  async endMetrics(keys: readonly string[]): Promise<void> {
    const store = this.deps.jobs.store;
    const arrays = new Map<string, string[]>();
    const rest: string[] = [];
    for (const k of keys) {
      const j = store.get(k);
      if (j && j.arrayTask !== null && sweepNoun(j) === 'array') arrays.set(j.sweepId, [...(arrays.get(j.sweepId) ?? []), k]);
      else rest.push(k);
    }
    await Promise.all([...rest.map((k) => this.finalMetrics(k)), ...[...arrays].map(([id, tasks]) => this.catchUpArray(id, store.sweepFacts(id)?.tasks.map((t) => t.jobKey) ?? tasks))]);
  }

  /**
   * A job array submitted elsewhere, at its end: its tasks' logs (where the scheduler said they
   * go, kept as they started) are read for their metric lines, in groups of FINAL_READ_GROUP tasks
   * per remote command and at most ARRAY_TASK_READS chunks of each log (its last part), so its
   * report ranks the tasks and charts them like a sweep of HPC Relay's own. Once per array (both
   * channels' reports share the read); a failure is logged and the report goes out with what the
   * store has.
   */
  private catchUpArray(sweepId: string, keys: readonly string[]): Promise<void> {
    const known = this.arrayReads.get(sweepId);
    if (known) return known;
    const { jobs, logger } = this.deps;
    const read = (async () => {
      for (let i = 0; i < keys.length; i += FINAL_READ_GROUP) {
        const group = keys.slice(i, i + FINAL_READ_GROUP);
        await jobs.catchUpMetricsOf(group, ARRAY_TASK_READS).catch((e: unknown) => {
          logger.warn('could not read the metrics of a job array submitted elsewhere', { sweep: sweepId, tasks: group.length, error: describeError(e) });
        });
      }
    })();
    this.arrayReads.set(sweepId, read);
    if (this.arrayReads.size > 100) this.arrayReads.delete(this.arrayReads.keys().next().value ?? '');
    return read;
  }

  /**
   * The Slack channel, with the job's final metric read done before its report goes out; a
   * sweep's end, on both channels, with every task's (its text composed again from them).
   */
  private withFinalMetrics(channels: NotifyChannels): NotifyChannels {
    const { slack, tray } = channels;
    const store = this.deps.jobs.store;
    return {
      ...(tray ? {
        tray: {
          notify: async (n) => {
            // The dispatcher's id: hpc-relay:job:<anchor task>:SWEEP_FINISHED:tray.
            const [, , key = '', kind = ''] = n.id.split(':');
            const sweepId = kind === SWEEP_FINISHED ? store.get(key)?.sweepId : undefined;
            const facts = sweepId ? await this.freshSweepFacts(sweepId, null) : null;
            await tray.notify(facts ? { ...n, ...pick(composeSweepEnd(facts)) } : n);
          },
        },
      } : {}),
      ...(slack ? {
        slack: {
          reportJobEnd: async (report) => {
            await this.finalMetrics(report.jobId);
            await slack.reportJobEnd(report);
          },
          ...(slack.reportSweepEnd ? {
            reportSweepEnd: async (report) => {
              const facts = await this.freshSweepFacts(report.sweepId, report.facts);
              await slack.reportSweepEnd?.({ ...report, facts: facts ?? report.facts });
            },
          } : {}),
        },
      } : {}),
    };
  }

  private publish(): void {
    this.deps.status?.publish({ jobs: { running: this.deps.jobs.store.unfinished().map((j) => ({ id: j.jobKey, name: j.name, state: j.state })) } });
  }
}

const pick = (m: { title: string; body: string }) => ({ title: m.title, body: m.body });

/**
 * The job service for the app and the daemon. The tray channel is the core's notifier (the app
 * has one, the daemon does not: the app delivers its own tray rows when it next runs); Slack is
 * whatever reporter the caller passes.
 */
export function jobsServiceFactory(opts: { channels?: (core: Core) => NotifyChannels } = {}): ServiceFactory {
  return async (core) => {
    if (!core.settings.settings().cluster.host) return null;
    const channels = opts.channels?.(core) ?? (core.notifier ? { tray: core.notifier } : {});
    return new JobsRuntime({
      jobs: core.jobs(), session: () => core.cluster().ssh, channels, settings: () => core.settings.settings(), clock: core.jobs().clock,
      logger: core.logger.child({ component: 'jobs' }), status: core.status,
    });
  };
}
