import { Option, type Command } from 'commander';
import { cronServiceFor } from '../core/cron/cron-runtime.js';
import type { MonitorSummary, RunView } from '../core/cron/cron-service.js';
import { formatDuration } from '../core/cron/digest.js';
import { formatWallTime } from '../core/cron/tz.js';
import type { Core } from '../core/index.js';
import type { MonitorKind } from '../core/store/cron-store.js';
import { UsageError, printJson } from './output.js';

type OpenCore = () => Promise<Core>;

const KINDS: readonly MonitorKind[] = ['digest', 'prompt', 'heartbeat'];

/** "90s", "10m", "1h", "1.5h", "2d"; a bare number is minutes. */
export function parseDurationMs(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${flag} takes a duration such as 90s, 10m, 1h or 2d (got "${text}").`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'm').toLowerCase()[0];
  const per = unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : unit === 'd' ? 86_400_000 : 60_000;
  return Math.round(n * per);
}

/**
 * A monitor's next run for the terminal: "2026-03-02 16:05 (in 4 min)". The run was planned
 * strictly after the moment the monitor was read, and `now` is read a little later, so a run that
 * fell due in between is "in 0 s", never "ago".
 */
export function nextRunText(ms: number | null, tz: string, now: number): string {
  if (ms === null) return '-';
  return `${formatWallTime(ms, tz)} (in ${formatDuration(Math.max(0, ms - now) / 1000)})`;
}

function summaryJson(m: MonitorSummary): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: m.id,
    name: m.name,
    schedule: m.schedule,
    expression: m.expression,
    description: m.description,
    timezone: m.timezone,
    kind: m.kind,
    prompt: m.prompt,
    to: m.target,
    status: m.status,
    repeat: m.repeat,
    runsLeft: m.runsLeft,
    nextRunAt: iso(m.nextRunAt),
    lastOutcome: m.lastOutcome,
    lastRun: m.lastRun ? runJson(m.lastRun) : null,
    costPerRun: m.costPerRun,
    costPerRunUsd: m.costPerRunUsd,
    createdAt: iso(m.createdAt),
  };
}

function runJson(r: RunView): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    plannedAt: iso(r.plannedAt),
    plannedUntil: iso(r.plannedUntil),
    covers: r.covers,
    trigger: r.trigger,
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    outcome: r.outcome,
    reason: r.reason,
    errorCode: r.errorCode,
    deliveredTo: r.deliveredTo,
    attempts: r.attempts,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

export function registerCronCommands(program: Command, open: OpenCore): void {
  const cron = program.command('cron').description('Monitors that run on a schedule: a job digest, a heartbeat for long runs, or an agent prompt, delivered to Slack, the tray or a file.');

  cron
    .command('create')
    .requiredOption('--schedule <when>', 'every 5m, every 2h, hourly, daily at 9am, weekdays at 18:00, mondays at 9, or cron such as "*/5 * * * *"')
    .addOption(new Option('--kind <kind>', 'digest (jobs, metrics, ETA; free), heartbeat (only long runs), or prompt (an agent prompt)').choices(KINDS))
    .option('--to <target>', 'slack (home channel), dm:U012ABCDEF, tray, or file:PATH', 'slack')
    .option('--name <name>', 'a name to recognise it by')
    .option('--prompt <text>', 'the agent prompt (with --kind prompt)')
    .option('--repeat <n>', 'stop after this many runs (1 = a one-off)')
    .option('--tz <zone>', 'time zone of the schedule (default: this computer\'s)')
    .option('--grace <duration>', 'how late a run missed while asleep may still run on wake (default: the interval, at most 15m)')
    .option('--min-runtime <duration>', 'heartbeat: only jobs running at least this long (default 1h)')
    .option('--json', 'print the new monitor as JSON')
    .description('Create a monitor; it runs while the app or `hpc-relay daemon` runs.')
    .action(async (opts: { schedule: string; kind?: MonitorKind; to: string; name?: string; prompt?: string; repeat?: string; tz?: string; grace?: string; minRuntime?: string; json?: boolean }) => {
      let repeat: number | undefined;
      if (opts.repeat !== undefined) {
        if (!/^\d+$/.test(opts.repeat.trim()) || Number(opts.repeat) < 1) throw new UsageError(`--repeat takes a whole number of runs, at least 1 (got "${opts.repeat}").`);
        repeat = Number(opts.repeat);
      }
      if (opts.kind === 'prompt' && !opts.prompt) throw new UsageError('--kind prompt needs --prompt "…" (what the agent should do each run).');
      if (opts.prompt !== undefined && opts.kind !== undefined && opts.kind !== 'prompt') throw new UsageError(`--prompt goes with --kind prompt, not --kind ${opts.kind}.`);
      if (opts.minRuntime !== undefined && opts.kind !== 'heartbeat') throw new UsageError('--min-runtime goes with --kind heartbeat.');
      const graceMs = opts.grace === undefined ? undefined : parseDurationMs(opts.grace, '--grace');
      const minRunSeconds = opts.minRuntime === undefined ? undefined : parseDurationMs(opts.minRuntime, '--min-runtime') / 1000;
      const core = await open();
      try {
        const m = await cronServiceFor(core).create({
          schedule: opts.schedule,
          to: opts.to,
          ...(opts.kind ? { kind: opts.kind } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.prompt !== undefined ? { prompt: opts.prompt } : {}),
          ...(repeat !== undefined ? { repeat } : {}),
          ...(opts.tz !== undefined ? { timezone: opts.tz } : {}),
          ...(graceMs !== undefined ? { graceMs } : {}),
          ...(minRunSeconds !== undefined ? { minRunSeconds } : {}),
        });
        if (opts.json) return printJson(summaryJson(m));
        const now = Date.now();
        const once = m.repeat === 1 ? ', once' : m.repeat ? `, ${m.repeat} times` : '';
        process.stdout.write(`Created monitor ${m.id} "${m.name}" (${m.kind}): ${m.description} (${m.expression}, ${m.timezone})${once} → ${m.targetDescription}.\n`);
        process.stdout.write(`Next run: ${nextRunText(m.nextRunAt, m.timezone, now)}.\n`);
        if (m.costPerRun) process.stdout.write(`Estimated cost: ${m.costPerRun}.\n`);
        process.stdout.write('Monitors run while the HPC Relay app or `hpc-relay daemon` runs.\n');
      } finally {
        await core.close();
      }
    });

  cron
    .command('list')
    .option('--json', 'print [{"id", "name", "schedule", "kind", "to", "status", "nextRunAt", "lastOutcome", …}]')
    .description('List monitors with their next run and last outcome.')
    .action(async (opts: { json?: boolean }) => {
      const core = await open();
      try {
        const all = await cronServiceFor(core).list();
        if (opts.json) return printJson(all.map(summaryJson));
        if (!all.length) {
          process.stdout.write('No monitors. Create one with: hpc-relay cron create --schedule "every 5m" --kind digest --to slack\n');
          return;
        }
        const now = Date.now();
        const rows = [['ID', 'NAME', 'SCHEDULE', 'KIND', 'TO', 'STATUS', 'NEXT RUN', 'LAST OUTCOME']];
        for (const m of all) {
          const status = m.repeat !== null && m.status === 'active' ? `active (${m.runsLeft} left)` : m.status;
          rows.push([m.id, m.name, m.description, m.kind, m.target, status, m.nextRunAt === null ? '-' : nextRunText(m.nextRunAt, m.timezone, now), m.lastOutcome ?? '-']);
        }
        process.stdout.write(`${table(rows)}\n`);
        for (const m of all) if (m.costPerRun) process.stdout.write(`monitor ${m.id}: ${m.costPerRun}\n`);
      } finally {
        await core.close();
      }
    });

  const idCommand = (name: 'pause' | 'resume' | 'remove', description: string, done: string) =>
    cron
      .command(name)
      .argument('<id>', 'the monitor ID (see cron list)')
      .description(description)
      .action(async (id: string) => {
        const core = await open();
        try {
          const svc = cronServiceFor(core);
          if (name === 'remove') {
            await svc.remove(id);
            process.stdout.write(`Monitor ${id.trim()} ${done}.\n`);
            return;
          }
          if (name === 'pause') await svc.pause(id);
          else await svc.resume(id);
          const m = await svc.get(id);
          const next = m.nextRunAt === null ? '' : ` Next run: ${nextRunText(m.nextRunAt, m.timezone, Date.now())}.`;
          process.stdout.write(`Monitor ${m.id} "${m.name}" ${done}.${next}\n`);
        } finally {
          await core.close();
        }
      });
  idCommand('pause', 'Stop running a monitor until resumed (runs it would have had are not made up).', 'is paused');
  idCommand('resume', 'Run a paused monitor again, from its next planned time.', 'is running again');
  idCommand('remove', 'Delete a monitor and its run history.', 'removed');

  cron
    .command('runs')
    .argument('<id>', 'the monitor ID')
    .option('--limit <n>', 'how many, newest first', '20')
    .option('--json', 'print the ledger rows as JSON')
    .description('Show a monitor\'s run ledger: planned time, start, end, outcome, where it went, or why it was skipped.')
    .action(async (id: string, opts: { limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit takes a whole number from 1 to 1000 (got "${opts.limit}").`);
      const core = await open();
      try {
        const svc = cronServiceFor(core);
        const m = await svc.get(id);
        const runs = await svc.runs(id, limit);
        if (opts.json) return printJson(runs.map(runJson));
        if (!runs.length) {
          process.stdout.write(`Monitor ${m.id} has not run yet.\n`);
          return;
        }
        const rows = [['PLANNED', 'STARTED', 'OUTCOME', 'DETAIL']];
        for (const r of runs) {
          const detail = [r.deliveredTo ? `→ ${r.deliveredTo}` : '', r.reason ?? '', r.attempts > 1 ? `(${r.attempts} attempts)` : ''].filter(Boolean).join(' ');
          rows.push([formatWallTime(r.plannedAt, m.timezone), r.startedAt === null ? '-' : formatWallTime(r.startedAt, m.timezone), r.covers > 1 ? `${r.outcome} ×${r.covers}` : r.outcome, detail]);
        }
        process.stdout.write(`${table(rows)}\n`);
      } finally {
        await core.close();
      }
    });
}
