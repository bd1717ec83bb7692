/**
 * `SlackReporter` for real: the report message (state, name, id, elapsed, final and best metrics,
 * failure class and stderr tail, buttons) in slack.homeChannel — or a DM to the first allowed user —
 * then the chart PNG uploaded into the job's thread, which later follow-ups reuse.
 */
import type { Logger } from '../ports.js';
import { keyMetric } from '../slurm/metrics-parser.js';
import type { ChannelResolver } from './channels.js';
import { bestPoint, renderChartPng } from './chart.js';
import type { ChartRenderer } from './chart.js';
import { SlackGatewayError } from './errors.js';
import { actions, clipText, code, codeBlock, context, escapeText, formatBytes, formatDuration, keepTail, section } from './format.js';
import type { Block } from './format.js';
import { fromJobEnd } from './reporter.js';
import type { JobEndReportLike, JobReportInput, ReportDelivery, SlackReporter } from './reporter.js';
import type { SlackSender } from './sender.js';
import type { ThreadMemory } from './threads.js';

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

function fmt(v: number): string {
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
    ...(keySeries && keyBest ? [`best ${code(keySeries.name)} ${fmt(keyBest.value)} at ${keySeries.stepLabel ?? 'step'} ${fmt(keyBest.step)}`] : []),
    ...(input.exitCode && input.exitCode !== '0:0' ? [`exit ${escapeText(input.exitCode)}`] : []),
    ...(typeof input.maxRssBytes === 'number' ? [`peak memory ${formatBytes(input.maxRssBytes)}${input.reqMemBytes ? ` of ${formatBytes(input.reqMemBytes)}` : ''}`] : []),
  ];
  const metricLines = input.metrics.filter((m) => m.points.length > 0).slice(0, 10).map((m) => {
    const last = m.points.at(-1);
    const best = bestPoint(m);
    const bestText = best && last && best.step !== last.step ? `, best ${fmt(best.value)} at ${m.stepLabel ?? 'step'} ${fmt(best.step)}` : '';
    const diverged = m.points.some((p) => !Number.isFinite(p.value)) ? ' :warning: NaN/inf seen' : '';
    return `• ${code(m.name)} final ${last ? fmt(last.value) : '—'}${bestText}${diverged}`;
  });
  const blocks: Block[] = [section(`${title}\n${facts.join(' · ')}${input.note ? `\n${escapeText(input.note)}` : ''}`)];
  if (metricLines.length) blocks.push(section(metricLines.join('\n')));
  if (!ok && (input.failureClass || input.stderrTail)) {
    const lines = (input.stderrTail ?? '').split('\n').slice(-STDERR_LINES).join('\n');
    const tail = keepTail(lines, STDERR_CHARS).text;
    blocks.push(section(`${input.failureClass ? `Failure class: ${code(input.failureClass)}` : 'Failed'}${tail.trim() ? `\nstderr (end):\n${codeBlock(tail)}` : ''}`));
  }
  blocks.push(actions(`job:${clipText(input.jobId, 40)}`, [
    { text: 'Tail log', actionId: TAIL_ACTION, value: input.jobId },
    { text: 'Resubmit', actionId: RESUBMIT_ACTION, value: input.jobId },
    { text: 'Suggest next', actionId: SUGGEST_ACTION, value: input.jobId },
  ]));
  blocks.push(context('Reply in this thread for follow-ups (`!tail`, `!stats`, `!resubmit mem=…`).'));
  const text = `${input.name} (job ${input.jobId}) ${ok ? 'finished' : 'ended'}: ${input.state}, elapsed ${formatDuration(input.elapsedSec)}`;
  return { text, blocks };
}

export class SlackJobReporter implements SlackReporter {
  private readonly log: Logger;

  constructor(private readonly deps: JobReporterDeps) {
    this.log = deps.logger.child({ component: 'slack-report' });
  }

  /** The notify dispatcher's entry point (its `SlackReporter.reportJobEnd`). */
  async reportJobEnd(r: JobEndReportLike): Promise<void> {
    await this.report(fromJobEnd(r));
  }

  async report(input: JobReportInput): Promise<ReportDelivery> {
    const key = input.deliveryKey ?? `${input.jobId}:${input.state}`;
    const done = this.deps.threads.reportDelivered(key);
    if (done) return { channel: done.channel, ts: done.ts, ...(done.fileId ? { fileId: done.fileId } : {}), duplicate: true };

    const channel = await this.target();
    const { text, blocks } = reportBlocks(input);
    const posted = await this.deps.sender.post({ channel, text, blocks });
    this.deps.threads.setJobThread(input.jobId, { channel: posted.channel, ts: posted.ts });
    // Follow-ups in the job's thread (`!tail`, questions for the agent) are for us.
    this.deps.threads.follow(posted.channel, posted.ts);
    // Posted: from here on a retry must not post again, even if the chart fails.
    this.deps.threads.markReportDelivered(key, { channel: posted.channel, ts: posted.ts });

    let fileId: string | undefined;
    const series = input.metrics.filter((m) => m.points.length > 0);
    if (series.length > 0) {
      try {
        const png = await renderChartPng(series, { title: `${input.name} — job ${input.jobId}`, ...(this.deps.renderer ? { renderer: this.deps.renderer } : {}) });
        const up = await this.deps.sender.upload({
          channelId: posted.channel,
          threadTs: posted.ts,
          filename: `job-${input.jobId}-metrics.png`,
          title: `${input.name} (job ${input.jobId}) metrics`,
          altText: `Metric curves of job ${input.jobId}: ${series.map((s) => s.name).join(', ')}`,
          bytes: png,
        });
        fileId = up.fileId;
        this.deps.threads.markReportDelivered(key, { channel: posted.channel, ts: posted.ts, fileId });
      } catch (e) {
        this.log.warn('job report chart not posted', { jobId: input.jobId, err: e instanceof Error ? e.message : String(e) });
      }
    }
    this.log.info('job report posted', { jobId: input.jobId, state: input.state, channel: posted.channel });
    return { channel: posted.channel, ts: posted.ts, ...(fileId ? { fileId } : {}), duplicate: false };
  }

  /** A channel ID to post to: slack.homeChannel (IDs as they are, #names looked up) or a DM. */
  private async target(): Promise<string> {
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
