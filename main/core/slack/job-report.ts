/**
 * `SlackReporter` for real: the report message (state, name, id, elapsed, final and best metrics,
 * failure class and stderr tail, buttons) in slack.homeChannel — or a DM to the first allowed user —
 * then the chart PNG uploaded into the job's thread, which later follow-ups reuse.
 *
 * Exactly once: chat.postMessage is not idempotent, and Slack can take a post whose answer never
 * arrives (the link drops, the process is killed). So each report post carries message metadata
 * (`hpc_relay_report`, its delivery key and a random attempt id), the attempt is written down
 * before the post goes out, and whenever the outcome of a post is unknown — a network error,
 * timeout or 5xx in this process, or an attempt left on record by an earlier one — the channel's
 * recent history is searched for that post before posting again. The chart likewise: its thread
 * is searched for the file before it is uploaded again. Without the history scopes the search
 * cannot run: the report is posted anyway (a repeat is better than a loss) and a warning says so.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../ports.js';
import { keyMetric } from '../slurm/metrics-parser.js';
import type { ChannelResolver } from './channels.js';
import { bestPoint, renderChartPng } from './chart.js';
import type { ChartRenderer } from './chart.js';
import { SlackGatewayError, platformData } from './errors.js';
import { actions, clipText, code, codeBlock, context, escapeText, formatBytes, formatDuration, keepTail, section } from './format.js';
import type { Block } from './format.js';
import { fromJobEnd } from './reporter.js';
import type { JobEndReportLike, JobReportInput, ReportDelivery, SlackReporter } from './reporter.js';
import type { SlackSender } from './sender.js';
import type { ReportAttempt, ThreadMemory, ThreadRef } from './threads.js';

export const TAIL_ACTION = 'hpc_tail';
export const RESUBMIT_ACTION = 'hpc_resubmit';
export const SUGGEST_ACTION = 'hpc_suggest';

export interface JobReporterDeps {
  sender: SlackSender;
  channels: ChannelResolver;
  threads: ThreadMemory;
  logger: Logger;
  /** slack.homeChannel (read at each report) and the allowlist's first user as the DM fallback. */
  homeChannel: () => string | undefined;
  allowedUsers: () => readonly string[];
  renderer?: ChartRenderer;
  /** Wall-clock ms (compared with Slack's message timestamps; default Date.now). */
  now?: () => number;
}

/** The metadata `event_type` of report posts. */
export const REPORT_EVENT_TYPE = 'hpc_relay_report';
/** How far before an attempt's start the history search reaches (this machine's clock against Slack's). */
const LOOKBACK_MS = 10 * 60_000;
/** The history search reads at most this many pages of 200 messages (newest first) before giving up. */
const HISTORY_PAGE = 200;
const HISTORY_PAGES = 5;

/** A report's chart: its file name in the thread, title and alt text, and the PNG (drawn only when it is uploaded). */
export interface ReportFile {
  filename: string;
  title: string;
  altText: string;
  render: () => Promise<Buffer>;
}

/** What a report is, for its log lines ("job report posted", with the job's id). */
export interface ReportAbout {
  what: string;
  fields: Record<string, unknown>;
}

interface SlackMessage {
  ts?: unknown;
  metadata?: { event_type?: unknown; event_payload?: Record<string, unknown> };
  files?: Array<{ id?: unknown; name?: unknown }>;
}

const OK_STATES = new Set(['COMPLETED']);
const STDERR_LINES = 40;
const STDERR_CHARS = 2500;

function stateEmoji(state: string): string {
  if (OK_STATES.has(state)) return ':white_check_mark:';
  if (state.startsWith('CANCELLED')) return ':no_entry_sign:';
  if (state === 'TIMEOUT') return ':hourglass:';
  return ':x:';
}

/** A metric value in five significant digits, NaN/inf as such: job reports and `status` show the same number. */
export function reportValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(Number(v.toPrecision(5)));
}

/** The report message itself (also used by tests and the window's preview). */
export function reportBlocks(input: JobReportInput): { text: string; blocks: Block[] } {
  const ok = OK_STATES.has(input.state);
  const title = `${stateEmoji(input.state)} *${escapeText(input.name)}* (job ${escapeText(input.jobId)}) ${ok ? 'finished' : 'ended'}: *${escapeText(input.state)}*`;
  // The headline: the best value of the job's key metric (val_acc, else a loss), wherever it was reached.
  const key = keyMetric(input.metrics.filter((m) => m.points.length > 0).map((m) => m.name));
  const keySeries = key ? input.metrics.find((m) => m.name === key.name) : undefined;
  const keyBest = keySeries ? bestPoint({ ...keySeries, goal: keySeries.goal ?? key?.goal }) : undefined;
  const facts = [
    `Elapsed ${formatDuration(input.elapsedSec)}`,
    ...(keySeries && keyBest ? [`best ${code(keySeries.name)} ${reportValue(keyBest.value)} at ${keySeries.stepLabel ?? 'step'} ${reportValue(keyBest.step)}`] : []),
    ...(input.exitCode && input.exitCode !== '0:0' ? [`exit ${escapeText(input.exitCode)}`] : []),
    ...(typeof input.maxRssBytes === 'number' ? [`peak memory ${formatBytes(input.maxRssBytes)}${input.reqMemBytes ? ` of ${formatBytes(input.reqMemBytes)}` : ''}`] : []),
  ];
  const metricLines = input.metrics.filter((m) => m.points.length > 0).slice(0, 10).map((m) => {
    const last = m.points.at(-1);
    const best = bestPoint(m);
    const bestText = best && last && best.step !== last.step ? `, best ${reportValue(best.value)} at ${m.stepLabel ?? 'step'} ${reportValue(best.step)}` : '';
    const diverged = m.points.some((p) => !Number.isFinite(p.value)) ? ' :warning: NaN/inf seen' : '';
    return `• ${code(m.name)} final ${last ? reportValue(last.value) : '—'}${bestText}${diverged}`;
  });
  const blocks: Block[] = [section(`${title}\n${facts.join(' · ')}${input.note ? `\n${escapeText(input.note)}` : ''}`)];
  if (metricLines.length) blocks.push(section(metricLines.join('\n')));
  if (!ok && (input.failureClass || input.stderrTail)) {
    const lines = (input.stderrTail ?? '').split('\n').slice(-STDERR_LINES).join('\n');
    const tail = keepTail(lines, STDERR_CHARS).text;
    blocks.push(section(`${input.failureClass ? `Failure class: ${code(input.failureClass)}` : 'Failed'}${tail.trim() ? `\nstderr (end):\n${codeBlock(tail)}` : ''}`));
  }
  // A job submitted outside HPC Relay: its output is read where the scheduler said it goes, but
  // HPC Relay has no script to resubmit.
  blocks.push(actions(`job:${clipText(input.jobId, 40)}`, [
    { text: 'Tail log', actionId: TAIL_ACTION, value: input.jobId },
    ...(input.adopted ? [] : [{ text: 'Resubmit', actionId: RESUBMIT_ACTION, value: input.jobId }]),
    { text: 'Suggest next', actionId: SUGGEST_ACTION, value: input.jobId },
  ]));
  blocks.push(context(input.adopted
    ? 'Submitted outside HPC Relay, so it cannot resubmit it; reply in this thread for `!tail`, `!stats` or a question.'
    : 'Reply in this thread for follow-ups (`!tail`, `!stats`, `!resubmit mem=…`).'));
  const text = `${input.name} (job ${input.jobId}) ${ok ? 'finished' : 'ended'}: ${input.state}, elapsed ${formatDuration(input.elapsedSec)}`;
  return { text, blocks };
}

export class SlackJobReporter implements SlackReporter {
  private readonly log: Logger;
  private readonly now: () => number;
  /** The missing-scope warning is given once per process, not once per report. */
  private scopeWarned = false;

  /** Also read by the sweep report (sweep-report.ts), which posts through the same sender, channel and thread memory. */
  constructor(readonly deps: JobReporterDeps) {
    this.log = deps.logger.child({ component: 'slack-report' });
    this.now = deps.now ?? Date.now;
  }

  /** The notify dispatcher's entry point (its `SlackReporter.reportJobEnd`). */
  async reportJobEnd(r: JobEndReportLike): Promise<void> {
    await this.report(fromJobEnd(r));
  }

  async report(input: JobReportInput): Promise<ReportDelivery> {
    const key = input.deliveryKey ?? `${input.jobId}:${input.state}`;
    const series = input.metrics.filter((m) => m.points.length > 0);
    const file: ReportFile = {
      filename: `job-${input.jobId}-metrics.png`,
      title: `${input.name} (job ${input.jobId}) metrics`,
      altText: `Metric curves of job ${input.jobId}: ${series.map((s) => s.name).join(', ')}`,
      render: () => renderChartPng(series, { title: `${input.name} — job ${input.jobId}`, ...(this.deps.renderer ? { renderer: this.deps.renderer } : {}) }),
    };
    const about = { what: 'job report', fields: { jobId: input.jobId, state: input.state } };
    const done = this.deps.threads.reportDelivered(key);
    if (done) {
      // Posted before; if the chart was still to go up (the process stopped), finish that.
      const fileId = done.chartPending && !done.fileId && series.length > 0 ? await this.chartOnce(key, done, file, true, about) : done.fileId;
      return { channel: done.channel, ts: done.ts, ...(fileId ? { fileId } : {}), duplicate: true };
    }
    const posted = await this.postOnce(key, reportBlocks(input), {
      chart: series.length > 0,
      onPosted: (at) => {
        this.deps.threads.setJobThread(input.jobId, at);
        // Follow-ups in the job's thread (`!tail`, questions for the agent) are for us.
        this.deps.threads.follow(at.channel, at.ts);
      },
    }, about);
    const fileId = series.length > 0 ? await this.chartOnce(key, posted.at, file, posted.lookForChart, about) : undefined;
    return { ...posted.at, ...(fileId ? { fileId } : {}), duplicate: false, ...(posted.recovered ? { recovered: true } : {}) };
  }

  /**
   * The report message for `key`, in the channel exactly once (see the file comment): an attempt
   * on record is looked for first, the attempt is written down before the post, and a post whose
   * outcome is unknown is looked for before it is sent again. `onPosted` records the thread before
   * the delivery is marked. `lookForChart`: an earlier process's post was found, so its chart may
   * be up too. Shared by job and sweep reports.
   */
  async postOnce(key: string, message: { text: string; blocks: Block[] }, o: { chart: boolean; onPosted?: (at: ThreadRef) => void }, about: ReportAbout): Promise<{ at: ThreadRef; recovered: boolean; lookForChart: boolean }> {
    const channel = await this.target();
    // An attempt on record: an earlier try may have reached Slack without us hearing back.
    const prior = this.deps.threads.reportAttempt(key);
    let posted = prior ? await this.findReport(key, prior) : undefined;
    let recovered = posted !== undefined;
    if (!posted) {
      const attempt: ReportAttempt = {
        channel,
        nonce: prior?.nonce ?? randomUUID(),
        startedAt: prior && prior.channel === channel ? prior.startedAt : this.now(),
      };
      // Written down before the post goes out, so a process killed mid-post looks before posting again.
      this.deps.threads.markReportAttempt(key, attempt);
      posted = await this.deps.sender.post(
        { channel, ...message, metadata: { event_type: REPORT_EVENT_TYPE, event_payload: { key, attempt: attempt.nonce } } },
        {
          reconcile: async () => {
            const found = await this.findReport(key, attempt);
            if (found) recovered = true;
            return found;
          },
        },
      );
    }
    const at: ThreadRef = { channel: posted.channel, ts: posted.ts };
    o.onPosted?.(at);
    // Posted: from here on a retry must not post again, even if the chart fails.
    this.deps.threads.markReportDelivered(key, { ...at, ...(o.chart ? { chartPending: true } : {}) });
    this.log.info(recovered ? `${about.what} found in Slack (an earlier post went through); not posted again` : `${about.what} posted`, { ...about.fields, channel: posted.channel });
    return { at, recovered, lookForChart: prior !== undefined && recovered };
  }

  /**
   * The report's chart in its thread, uploaded once; its file ID, or undefined when it cannot go up
   * (logged; the report stands without it). `lookFirst`: an earlier process may have uploaded it
   * already. Rejects only when the gateway stops first: the chart is then still pending for the next try.
   */
  async chartOnce(key: string, at: ThreadRef, file: ReportFile, lookFirst: boolean, about: ReportAbout): Promise<string | undefined> {
    try {
      let fileId = lookFirst ? await this.findChart(at, file.filename) : undefined;
      if (!fileId) {
        const up = await this.deps.sender.upload(
          { channelId: at.channel, threadTs: at.ts, filename: file.filename, title: file.title, altText: file.altText, bytes: await file.render() },
          {
            reconcile: async () => {
              const id = await this.findChart(at, file.filename);
              return id ? { fileId: id } : undefined;
            },
          },
        );
        fileId = up.fileId;
      }
      this.deps.threads.markReportDelivered(key, { channel: at.channel, ts: at.ts, fileId });
      return fileId;
    } catch (e) {
      if (e instanceof SlackGatewayError && e.code === 'SLACK_STOPPED') throw e;
      this.log.warn(`${about.what} chart not posted`, { ...about.fields, err: e instanceof Error ? e.message : String(e) });
      this.deps.threads.markReportDelivered(key, { channel: at.channel, ts: at.ts });
      return undefined;
    }
  }

  /** The report post of `attempt` in its channel's recent history, if Slack took it (sweep reports use it too). */
  async findReport(key: string, attempt: ReportAttempt): Promise<ThreadRef | undefined> {
    const oldest = Math.max(0, Math.floor((attempt.startedAt - LOOKBACK_MS) / 1000));
    let cursor = '';
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const r = await this.read('conversations.history', { channel: attempt.channel, oldest: String(oldest), include_all_metadata: true, limit: HISTORY_PAGE, ...(cursor ? { cursor } : {}) });
      if (!r) return undefined;
      const hit = messagesOf(r).find((m) => {
        const meta = m.metadata;
        return meta?.event_type === REPORT_EVENT_TYPE && meta.event_payload?.key === key && meta.event_payload.attempt === attempt.nonce;
      });
      if (hit && typeof hit.ts === 'string') return { channel: attempt.channel, ts: hit.ts };
      cursor = nextCursor(r);
      if (!cursor) return undefined;
    }
    this.log.warn('job report not found in the channel’s recent history (too many messages since it was tried); posting it, so it may appear twice', { key, channel: attempt.channel });
    return undefined;
  }

  /** The chart file (by its name) in the report's thread, if it is there (sweep reports use it too). */
  async findChart(at: ThreadRef, filename: string): Promise<string | undefined> {
    let cursor = '';
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const r = await this.read('conversations.replies', { channel: at.channel, ts: at.ts, limit: HISTORY_PAGE, ...(cursor ? { cursor } : {}) });
      if (!r) return undefined;
      for (const m of messagesOf(r)) {
        const f = m.files?.find((x) => x.name === filename && typeof x.id === 'string');
        if (f && typeof f.id === 'string') return f.id;
      }
      cursor = nextCursor(r);
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /**
   * A history read for a search; undefined when it cannot be done (the caller then posts: a
   * report may repeat, it is never lost). Transient failures are retried by the sender; only a
   * stop is passed on.
   */
  private async read(method: string, args: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.deps.sender.call(method, args);
    } catch (e) {
      if (e instanceof SlackGatewayError && e.code === 'SLACK_STOPPED') throw e;
      if (e instanceof SlackGatewayError && e.code === 'SLACK_MISSING_SCOPE') {
        if (!this.scopeWarned) {
          this.scopeWarned = true;
          const needed = platformData(e.cause)?.needed ?? 'a history scope';
          this.log.warn(`Cannot check whether an interrupted job report already reached Slack: the bot token lacks ${needed}, so such a report is posted again and may appear twice. Reinstall the app from \`hpc-relay slack manifest\` (it asks for channels:history and groups:history).`, { code: e.code, method, needed });
        }
        return undefined;
      }
      this.log.warn('Cannot check whether an interrupted job report already reached Slack; posting it, so it may appear twice', { method, err: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  /** A channel ID to post to: slack.homeChannel (IDs as they are, #names looked up) or a DM. */
  async target(): Promise<string> {
    const home = this.deps.homeChannel()?.trim();
    if (home) return this.deps.channels.resolve(home);
    const user = this.deps.allowedUsers()[0];
    if (!user) {
      throw new SlackGatewayError('SLACK_NO_REPORT_TARGET', 'There is nowhere to post job reports: slack.homeChannel is not set and slack.allowedUsers is empty.', {
        fix: 'Run `hpc-relay config set slack.homeChannel C012ABCDEF` (a channel the bot is in), or add yourself to slack.allowedUsers to get reports by DM.',
      });
    }
    return this.deps.channels.dm(user);
  }
}

function messagesOf(r: Record<string, unknown>): SlackMessage[] {
  return Array.isArray(r.messages) ? (r.messages as SlackMessage[]) : [];
}

function nextCursor(r: Record<string, unknown>): string {
  const next = (r.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
  return typeof next === 'string' ? next : '';
}
