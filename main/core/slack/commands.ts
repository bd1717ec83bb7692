/**
 * The deterministic commands (no LLM): a parsed `SlackCommand` in, a Slack reply out. All work is
 * done by the ports; destructive ones (cancel) only post approve/deny buttons here.
 */
import type { DoctorReport } from '../doctor/doctor.js';
import { describeError } from '../errors.js';
import type { ApprovalBroker } from './approvals.js';
import type { SlackCommand } from './command-parser.js';
import { MAX_TAIL_LINES } from './command-parser.js';
import { clipText, code, codeBlock, escapeText, formatBytes, formatDuration, keepTail, table } from './format.js';
import type { SlackReply } from './format.js';
import type { SlackPorts } from './jobs-api.js';
import { statusText } from './status-view.js';

/** How the user reached us: decides how commands are spelled in help. */
export type Surface = 'slash' | 'dm' | 'thread';

export interface CommandContext {
  userId: string;
  surface: Surface;
}

export interface CommandRunnerDeps {
  ports: SlackPorts;
  approvals: ApprovalBroker;
  doctor?: () => Promise<DoctorReport>;
}

export const AGENT_HINT =
  'To ask in plain language, enable the agent: `hpc-relay secrets set anthropic-api-key`, then `hpc-relay config set llm.enabled true`.';

const TAIL_CHARS = 3500;

export function commandPrefix(surface: Surface): string {
  return surface === 'slash' ? '/hpc ' : surface === 'thread' ? '!' : '';
}

const HELP: Array<[string, string]> = [
  ['status', 'your tracked jobs'],
  ['tail JOB [LINES]', 'the end of a job’s output (default 20 lines)'],
  ['stats JOB', 'elapsed time, peak memory vs requested'],
  ['cancel JOB', 'cancel a job (asks for a confirming click)'],
  ['submit TEMPLATE key=value…', 'submit a job from a template'],
  ['resubmit JOB [mem=16G] [time=4:00:00]', 'run a job again, optionally with more memory or time'],
  ['cron list | pause ID | resume ID', 'your monitors'],
  ['doctor', 'check the setup'],
  ['usage', 'agent spending this month'],
  ['help', 'this list'],
];

export function helpText(surface: Surface): string {
  const p = commandPrefix(surface);
  const where = surface === 'thread' ? 'In a channel thread, start commands with `!`. ' : '';
  return `${where}Commands:\n${HELP.map(([c, what]) => `• \`${p}${c}\` — ${what}`).join('\n')}`;
}

export class CommandRunner {
  constructor(private readonly deps: CommandRunnerDeps) {}

  async run(cmd: SlackCommand, ctx: CommandContext): Promise<SlackReply> {
    try {
      return await this.dispatch(cmd, ctx);
    } catch (e) {
      return { text: `\`${cmd.name}\` failed: ${escapeText(clipText(describeError(e), 600))}` };
    }
  }

  private unavailable(what: string): SlackReply {
    return { text: `${what} are not available in this relay yet (the service behind them is not running).` };
  }

  private async dispatch(cmd: SlackCommand, ctx: CommandContext): Promise<SlackReply> {
    const { jobs, cron, usage } = this.deps.ports;
    switch (cmd.name) {
      case 'help':
        return { text: helpText(ctx.surface) };
      case 'ping':
        return { text: 'pong' };
      case 'status': {
        if (!jobs) return this.unavailable('Job commands');
        return { text: statusText(await jobs.listJobs()) };
      }
      case 'tail': {
        if (!jobs) return this.unavailable('Job commands');
        const t = await jobs.tail(cmd.jobId, Math.min(cmd.lines, MAX_TAIL_LINES));
        const { text, cut } = keepTail(t.lines.join('\n'), TAIL_CHARS);
        const src = t.path ? ` from ${code(t.path)}` : '';
        const note = cut || t.truncated ? ' (cut to the newest part)' : '';
        if (t.lines.length === 0) return { text: `Job ${cmd.jobId} has no output yet${src}.` };
        return { text: `Last ${t.lines.length} line${t.lines.length === 1 ? '' : 's'} of job ${cmd.jobId}${src}${note}:\n${codeBlock(text)}` };
      }
      case 'stats': {
        if (!jobs) return this.unavailable('Job commands');
        const s = await jobs.stats(cmd.jobId);
        const mem = s.maxRssBytes !== null && s.reqMemBytes ? ` (${Math.round((100 * s.maxRssBytes) / s.reqMemBytes)}% of requested)` : '';
        const time = s.elapsedSec !== null && s.timeLimitSec ? ` (${Math.round((100 * s.elapsedSec) / s.timeLimitSec)}% of the limit)` : '';
        const lines = [
          `*Job ${escapeText(s.jobId)}* ${escapeText(s.name)} — ${escapeText(s.state)}${s.exitCode ? `, exit ${escapeText(s.exitCode)}` : ''}`,
          `Elapsed: ${formatDuration(s.elapsedSec)} of ${formatDuration(s.timeLimitSec)}${time}`,
          `Peak memory (MaxRSS): ${formatBytes(s.maxRssBytes)} of ${formatBytes(s.reqMemBytes)} requested${mem}`,
          ...(s.nodeList ? [`Nodes: ${escapeText(s.nodeList)}`] : []),
        ];
        return { text: lines.join('\n') };
      }
      case 'cancel': {
        if (!jobs) return this.unavailable('Job commands');
        const jobId = cmd.jobId;
        const a = this.deps.approvals.open({
          summary: `cancel job ${jobId}`,
          requestedBy: ctx.userId,
          onApprove: async () => {
            await jobs.cancel(jobId);
            return `Job ${jobId} is cancelled.`;
          },
        });
        return { text: a.text, blocks: a.blocks };
      }
      case 'submit': {
        if (!jobs) return this.unavailable('Job commands');
        const r = await jobs.submit(cmd.templateId, cmd.params);
        return { text: `Submitted ${code(cmd.templateId)} as job ${escapeText(r.jobId)}${r.name ? ` (${escapeText(r.name)})` : ''}. I will report here when it ends.` };
      }
      case 'resubmit': {
        if (!jobs) return this.unavailable('Job commands');
        const r = await jobs.resubmit(cmd.jobId, cmd.changes);
        const c = cmd.changes;
        const what = [c.mem ? `mem=${c.mem}` : '', c.time ? `time=${c.time}` : '', c.partition ? `partition=${c.partition}` : '', ...Object.entries(c.params ?? {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean);
        return { text: `Resubmitted job ${cmd.jobId} as job ${escapeText(r.jobId)}${what.length ? ` with ${what.map(code).join(' ')}` : ' unchanged'}.` };
      }
      case 'cron': {
        if (!cron) return this.unavailable('Monitors');
        if (cmd.action === 'list') {
          const list = await cron.list();
          if (list.length === 0) return { text: 'No monitors.' };
          const rows = list.map((m) => [m.id, clipText(m.name, 30), clipText(m.schedule, 24), m.paused ? 'paused' : m.nextRunAt ? new Date(m.nextRunAt).toISOString().slice(0, 16).replace('T', ' ') : '—', clipText(m.lastOutcome ?? '—', 30)]);
          return { text: codeBlock(table(['ID', 'NAME', 'SCHEDULE', 'NEXT (UTC)', 'LAST'], rows)) };
        }
        if (cmd.action === 'pause') await cron.pause(cmd.id);
        else await cron.resume(cmd.id);
        return { text: `Monitor ${code(cmd.id)} is ${cmd.action === 'pause' ? 'paused' : 'running again'}.` };
      }
      case 'doctor': {
        if (!this.deps.doctor) return this.unavailable('Checks');
        const report = await this.deps.doctor();
        const lines = report.checks.map((c) => `${c.ok ? ':white_check_mark:' : ':x:'} *${escapeText(c.title)}*: ${escapeText(clipText(c.message, 300))}${!c.ok && c.fix ? `\n      _fix:_ ${escapeText(clipText(c.fix, 300))}` : ''}`);
        return { text: `${report.ok ? 'All checks pass.' : 'Some checks fail.'}\n${lines.join('\n')}` };
      }
      case 'usage': {
        if (!usage) return { text: `The agent is not set up, so it has spent nothing. ${AGENT_HINT}` };
        const u = await usage.usage();
        const pct = u.budgetUsd > 0 ? ` (${Math.round((100 * u.monthUsd) / u.budgetUsd)}% of the $${u.budgetUsd.toFixed(2)} budget)` : '';
        return { text: `This month: $${u.monthUsd.toFixed(2)}${pct}; ${u.inputTokens.toLocaleString('en-US')} input and ${u.outputTokens.toLocaleString('en-US')} output tokens over ${u.conversations} conversation${u.conversations === 1 ? '' : 's'}.` };
      }
    }
  }
}


/** The reply for free-form text when no agent is configured. */
export function noAgentReply(surface: Surface): SlackReply {
  return { text: `I only understand commands right now. ${AGENT_HINT}\n${helpText(surface)}` };
}

/** The reply for `!foo` / `/hpc foo`: one sentence. */
export function unknownCommandReply(word: string, surface: Surface): SlackReply {
  // `code()` makes invisible and direction-flipping characters visible (\u202e), so the echo reads as typed.
  return { text: `${code(clipText(word, 40))} is not a command; \`${commandPrefix(surface)}help\` lists them.` };
}
