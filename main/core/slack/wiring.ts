/**
 * How the Slack gateway meets the rest of the core in the app and the daemon. The gateway is its
 * own runtime service; the job service's notify dispatcher and the cron monitors are others, built
 * before or after it and restarted on their own. They talk through a per-core hub that always
 * exists and forwards to whichever gateway runs now: with none running, a report fails with
 * SLACK_STOPPED and the outbox keeps it for the next attempt (never dropped).
 */
import path from 'node:path';
import { describeError } from '../errors.js';
import type { Core } from '../index.js';
import { cronServiceFor } from '../cron/cron-runtime.js';
import { SlackGatewayError } from './errors.js';
import type { SlackGateway } from './gateway.js';
import type { AgentHandler, CronApi, JobsApi, SlackPorts, UsageApi } from './jobs-api.js';
import { noAgentReply } from './commands.js';
import { agentFor } from '../agent/runtime.js';
import type { Agent } from '../agent/index.js';
import type { JobEndReportLike, MetricSeries } from './reporter.js';
import { guessGoal } from './chart.js';
import { FileThreadMemory } from './threads.js';
import type { ThreadMemory, ThreadRef } from './threads.js';

export interface SlackHub {
  readonly gateway: SlackGateway | null;
  attach(gateway: SlackGateway | null): void;
  /** Calls `listener` when the open approvals change: in the running gateway, or another gateway (or none) attached. Returns how to stop. */
  onApprovalsChanged(listener: () => void): () => void;
  /** The notify dispatcher's Slack channel (`NotifyChannels.slack`). */
  readonly reporter: { reportJobEnd(report: JobEndReportLike): Promise<void> };
  /** Cron monitors' SlackPoster. */
  readonly poster: { post(msg: { channel?: string; user?: string; text: string }): Promise<void> };
  /** The agent's ThreadPoster (research updates and their chart, job summaries in their thread). */
  readonly threadPoster: {
    post(where: { channelId: string; threadTs?: string }, text: string): Promise<void>;
    postFile(where: { channelId: string; threadTs?: string }, file: { filename: string; title: string; altText: string; bytes: Buffer }): Promise<void>;
  };
  /** The Slack thread of the job's report, when one was posted (known with or without a running gateway). */
  jobThread(jobId: string): ThreadRef | undefined;
  /** Slack's link to the job's report thread (chat.getPermalink, through the running gateway). */
  threadPermalink(jobId: string): Promise<string>;
}

const hubs = new WeakMap<Core, SlackHub>();
const threadMemories = new WeakMap<Core, ThreadMemory>();

/**
 * The core's one Slack thread memory (`slack-threads.json` in the settings home): the gateway
 * records report threads in it, and the window reads it while the gateway is down too.
 */
export function slackThreads(core: Core): ThreadMemory {
  let t = threadMemories.get(core);
  if (!t) {
    t = new FileThreadMemory(path.join(core.home, 'slack-threads.json'), core.logger);
    threadMemories.set(core, t);
  }
  return t;
}

function notRunning(): SlackGatewayError {
  return new SlackGatewayError('SLACK_STOPPED', 'The Slack gateway is not running, so this could not be posted.', {
    fix: 'Check `hpc-relay doctor` (slack.*); job reports wait in the outbox and go out once it runs.',
  });
}

/**
 * The job's metric curves from the job service's store, one series per name. summary.json's
 * numbers are single values (best_val_acc, args.lr, …), not curves: they are left out.
 */
export function metricSeriesOf(core: Core, jobId: string): MetricSeries[] {
  const bySeries = new Map<string, Map<string, Array<{ step: number; value: number }>>>();
  // What the step counts (`epoch`), per series, as the job named it: the chart's x-axis label.
  const stepNames = new Map<string, string>();
  for (const p of core.jobs().metrics.series(jobId)) {
    if (p.source === 'summary') continue;
    const sources = bySeries.get(p.series) ?? new Map<string, Array<{ step: number; value: number }>>();
    const pts = sources.get(p.source) ?? [];
    pts.push({ step: p.step, value: p.value ?? Number.NaN });
    sources.set(p.source, pts);
    bySeries.set(p.series, sources);
    if (p.stepName && !stepNames.has(p.series)) stepNames.set(p.series, p.stepName);
  }
  // The chart has room for six panels: accuracies and losses first, then the rest (timings,
  // learning rates), each in name order.
  const rank = (name: string): number => (guessGoal(name) ? 0 : 1);
  // A series written to two places (metrics.csv and the log) is drawn once, from the fuller one.
  return [...bySeries].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([name, sources]) => {
    const stepLabel = stepNames.get(name);
    return { name, points: [...sources.values()].sort((a, b) => b.length - a.length)[0] ?? [], ...(stepLabel ? { stepLabel } : {}) };
  });
}

export function slackHub(core: Core): SlackHub {
  const existing = hubs.get(core);
  if (existing) return existing;
  let current: SlackGateway | null = null;
  const log = core.logger.child({ component: 'slack-hub' });
  // Who listens for approval changes (the window), and the running gateway's broker, watched only while someone listens.
  const approvalWatchers = new Set<() => void>();
  let unwatchBroker: (() => void) | null = null;
  const approvalsChanged = (): void => {
    for (const watcher of [...approvalWatchers]) {
      try {
        watcher();
      } catch (e) {
        log.warn('an approvals watcher failed', { err: describeError(e) });
      }
    }
  };
  const watchBroker = (): void => {
    unwatchBroker?.();
    unwatchBroker = current && approvalWatchers.size > 0 ? current.approvals.onChange(approvalsChanged) : null;
  };
  const hub: SlackHub = {
    get gateway() {
      return current;
    },
    attach(g) {
      current = g;
      watchBroker();
      approvalsChanged();
    },
    onApprovalsChanged(listener) {
      approvalWatchers.add(listener);
      watchBroker();
      return () => {
        approvalWatchers.delete(listener);
        watchBroker();
      };
    },
    reporter: {
      async reportJobEnd(report) {
        const g = current;
        if (!g) throw notRunning();
        // The dispatcher's payload has the numbers; the chart and the stderr tail come from the job service.
        let metrics = report.metrics;
        let stderrTail = report.stderrTail;
        // A job submitted elsewhere: its output paths were kept when it ran or ended (the jobs
        // runtime also read its log's metrics then); asked of the scheduler here if they were not.
        const outputKnown = !report.adopted || await core.jobs().outputPaths(report.jobId).then(() => true, (e: unknown) => {
          log.info('the output file of a job submitted elsewhere is not known', { jobId: report.jobId, err: describeError(e) });
          return false;
        });
        try {
          metrics ??= metricSeriesOf(core, report.jobId);
        } catch (e) {
          log.warn('no metrics for the job report', { jobId: report.jobId, err: describeError(e) });
        }
        if (stderrTail === undefined && report.state !== 'COMPLETED' && outputKnown) {
          stderrTail = await core.jobs().tail(report.jobId, 40, 'stderr').then((t) => t.lines.join('\n'), (e: unknown) => {
            log.warn('no stderr tail for the job report', { jobId: report.jobId, err: describeError(e) });
            return null;
          });
        }
        await g.reporter.reportJobEnd({ ...report, ...(metrics ? { metrics } : {}), stderrTail: stderrTail ?? null });
      },
    },
    poster: {
      async post(msg) {
        const g = current;
        if (!g) throw notRunning();
        await g.post(msg);
      },
    },
    threadPoster: {
      async post(where, text) {
        const g = current;
        if (!g) throw notRunning();
        await g.post({ channel: where.channelId, text, ...(where.threadTs ? { threadTs: where.threadTs } : {}) });
      },
      async postFile(where, file) {
        const g = current;
        if (!g) throw notRunning();
        await g.postFile({ channel: where.channelId, ...file, ...(where.threadTs ? { threadTs: where.threadTs } : {}) });
      },
    },
    jobThread: (jobId) => slackThreads(core).jobThread(jobId),
    async threadPermalink(jobId) {
      const ref = slackThreads(core).jobThread(jobId);
      if (!ref) {
        throw new SlackGatewayError('SLACK_NO_THREAD', `Job ${jobId} has no Slack thread: no report of it was posted.`, {
          fix: 'A report is posted when the job ends while Slack is on (slack.enabled and notify.slack); its thread can be opened then.',
        });
      }
      const g = current;
      if (!g) {
        throw new SlackGatewayError('SLACK_STOPPED', 'The Slack gateway is not running, so Slack cannot be asked for the thread’s link.', {
          fix: 'Turn Slack on (Setup → Slack) and check the Doctor’s slack.* checks, then try again.',
        });
      }
      return g.permalink(ref.channel, ref.ts);
    },
  };
  hubs.set(core, hub);
  return hub;
}

/**
 * The ports the app and the daemon give the gateway: the core's job service, cron monitors and
 * the agent, reached on first use (a relay with Slack but no cluster yet opens nothing until
 * asked). Free-form text goes to the agent only while llm.enabled is true; otherwise the reply
 * lists the commands and says how to turn the agent on.
 */
export function corePorts(core: Core): SlackPorts {
  const jobs: JobsApi = {
    listJobs: () => core.jobs().listJobs(),
    tail: (jobId, lines) => core.jobs().tail(jobId, lines),
    cancel: (jobId) => core.jobs().cancel(jobId),
    submit: (templateId, params) => core.jobs().submit(templateId, params),
    resubmit: (jobId, changes) => core.jobs().resubmit(jobId, changes),
    stats: (jobId) => core.jobs().stats(jobId),
  };
  const cron: CronApi = {
    list: () => cronServiceFor(core).list(),
    pause: (id) => cronServiceFor(core).pause(id),
    resume: (id) => cronServiceFor(core).resume(id),
  };
  // The core's one agent: the same instance the agent service feeds job ends to.
  const theAgent = (): Agent => agentFor(core);
  const agent: AgentHandler = {
    async handle(req, io) {
      if (!core.settings.settings().llm.enabled) {
        await io.say(noAgentReply(req.threadTs && !req.channelId.startsWith('D') ? 'thread' : 'dm').text);
        return;
      }
      await theAgent().handle(req, io);
    },
  };
  const usage: UsageApi = { usage: () => theAgent().usage() };
  return { jobs, cron, agent, usage };
}
