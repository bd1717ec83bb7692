import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { readable } from '../core/text/readable.js';
import { describeError } from '../core/errors.js';
import type { Core } from '../core/index.js';
import { JobsRuntime } from '../core/jobs/jobs-runtime.js';
import type { JobSummary, ResubmitChanges, SubmitResult } from '../core/jobs/index.js';
import { countStates, foldArrays } from '../core/jobs/job-groups.js';
import type { BestMetric } from '../core/jobs/job-types.js';
import { reportValue } from '../core/slack/job-report.js';
import { formatDuration } from '../core/slurm/slurm-values.js';
import { printJson, UsageError } from './output.js';

type OpenCore = (opts?: { logToStderr?: boolean }) => Promise<Core>;

/** How often `watch JOB` looks at the queue while the job was submitted from a terminal (it writes no events line). */
const WATCH_ADOPTED_POLL_MS = 5_000;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--param k=v` pairs; a key is a plain name, the value is data (never shell text). */
export function parseParams(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const key = eq === -1 ? '' : p.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) throw new UsageError(`--param ${JSON.stringify(p)} is not NAME=VALUE.`, 'Write parameters as --param lr=0.01.');
    out[key] = p.slice(eq + 1);
  }
  return out;
}

function resources(opts: { mem?: string; time?: string; partition?: string }): ResubmitChanges {
  return { ...(opts.mem !== undefined ? { mem: opts.mem } : {}), ...(opts.time !== undefined ? { time: opts.time } : {}), ...(opts.partition !== undefined ? { partition: opts.partition } : {}) };
}

function printSubmitted(r: SubmitResult, json: boolean | undefined): void {
  if (json) printJson({ jobId: r.jobId, name: r.name ?? null, jobIds: r.jobIds });
  else process.stdout.write(`Submitted job ${r.jobId}${r.name ? ` (${r.name})` : ''}${r.jobIds.length > 1 ? ` with ${r.jobIds.length} array tasks` : ''}.\n`);
}

/** The `jobs` table: one row per job, and one per job array (its tasks folded) unless `tasks` asks for every task. */
export function jobsTable(jobs: readonly JobSummary[], tasks = false): string {
  const elapsed = (s: number | null) => (s === null ? '' : formatDuration(s));
  const entries = tasks ? jobs.map((job) => ({ kind: 'job' as const, job })) : foldArrays(jobs);
  // The BEST column (the key metric's best value, e.g. `val_acc 0.8731`) only when a row has one, as in Slack's status.
  const withBest = entries.some((e) => (e.kind === 'job' ? e.job.best : e.best));
  const head = ['JOB', 'NAME', 'STATE', 'ELAPSED', 'EXIT', ...(withBest ? ['BEST'] : []), 'WHERE'];
  const rows = [head, ...entries.map((e) => {
    if (e.kind === 'job') {
      const j = e.job;
      return [j.jobId, j.name.slice(0, 32), j.state, elapsed(j.elapsedSec), j.exitCode ?? '', ...(withBest ? [bestText(j.best)] : []), `${j.where ?? ''}${j.adopted ? ' (adopted)' : ''}`.trim()];
    }
    const exits = new Set(e.tasks.map((t) => t.exitCode ?? ''));
    return [e.id, (e.tasks[0]?.name ?? '').slice(0, 32), e.state, elapsed(e.elapsedSec), exits.size === 1 ? [...exits][0] ?? '' : '', ...(withBest ? [bestText(e.best)] : []), `${e.tasks.length} tasks${e.tasks[0]?.adopted ? ' (adopted)' : ''}`];
  })];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function bestText(best: BestMetric | undefined): string {
  return best ? `${best.series} ${reportValue(best.value)}` : '';
}

/**
 * The line `watch JOB` ends with: the job's final state, how long it ran, its exit code and best
 * key metric; for an array its states counted and its best task. `ok` when every task completed.
 */
export function watchSummary(id: string, list: readonly JobSummary[]): { text: string; ok: boolean; best?: BestMetric } {
  const ok = list.length > 0 && list.every((j) => j.state === 'COMPLETED');
  const [e] = foldArrays(list);
  if (!e) return { text: `Job ${id} has ended.`, ok };
  if (e.kind === 'job') {
    const j = e.job;
    const facts = [j.elapsedSec !== null ? `after ${formatDuration(j.elapsedSec)}` : '', j.exitCode ? `exit ${j.exitCode}` : '', j.best ? `best ${bestText(j.best)}` : ''].filter(Boolean);
    return { text: `Job ${j.jobId} (${j.name}) ${j.state}${facts.length ? `: ${facts.join(', ')}` : ''}.`, ok, ...(j.best ? { best: j.best } : {}) };
  }
  const bestTask = e.best ? e.tasks.find((t) => t.best === e.best)?.jobId : undefined;
  const facts = [countStates(e.tasks.map((t) => t.state)), e.elapsedSec !== null ? `longest ${formatDuration(e.elapsedSec)}` : '', e.best ? `best ${bestText(e.best)}${bestTask ? ` (task ${bestTask})` : ''}` : ''].filter(Boolean);
  return { text: `Job array ${e.id} (${e.tasks[0]?.name ?? ''}): ${facts.join(', ')}.`, ok, ...(e.best ? { best: e.best } : {}) };
}

async function withCore<T>(open: OpenCore, fn: (core: Core) => Promise<T>): Promise<T> {
  const core = await open();
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

export function registerJobsCommands(program: Command, open: OpenCore): void {
  program
    .command('submit')
    .argument('<target>', 'a template id (see templates/) or the path of your own sbatch script')
    .argument('[args...]', 'for a script: arguments passed to it as they are (after --)')
    .option('--param <name=value>', 'a template parameter; for a script, passed to it as --name=value (repeatable)', collect, [])
    .option('--mem <size>', 'sbatch --mem for a script, e.g. 8G')
    .option('--time <limit>', 'sbatch --time for a script, e.g. 04:00:00')
    .option('--partition <name>', 'sbatch --partition for a script')
    .option('--json', 'print {"jobId", "name", "jobIds"}')
    .description('Submit a template or your own sbatch script; values travel as data, never as shell text.')
    .action(async (target: string, args: string[], opts: { param: string[]; mem?: string; time?: string; partition?: string; json?: boolean }) => {
      const params = parseParams(opts.param);
      const isFile = fs.existsSync(target) && fs.statSync(target).isFile();
      await withCore(open, async (core) => {
        let r: SubmitResult;
        if (isFile) {
          const res = resources(opts);
          const sbatchArgs = [...(res.mem ? [`--mem=${res.mem}`] : []), ...(res.time ? [`--time=${res.time}`] : []), ...(res.partition ? [`--partition=${res.partition}`] : [])];
          r = await core.jobs().submitScript({
            name: path.basename(target), content: fs.readFileSync(target), sbatchArgs, scriptArgs: [...Object.entries(params).map(([k, v]) => `--${k}=${v}`), ...args], params,
          });
        } else {
          if (target.includes('/') || /\.(sh|slurm|sbatch|bash)$/.test(target)) throw new UsageError(`There is no file ${target}.`, 'Give the path of an existing sbatch script, or a template id such as cnn_train.');
          if (args.length > 0 || opts.mem || opts.time || opts.partition) throw new UsageError('A template takes its values as --param NAME=VALUE (resources too, e.g. --param mem=8G).', 'Move the values into --param options.');
          r = await core.jobs().submit(target, params);
        }
        printSubmitted(r, opts.json);
      });
    });

  program
    .command('jobs')
    .option('--json', 'print [{"jobId", "name", "state", "exitCode", "elapsedSec", …}] (one entry per array task)')
    .option('--tasks', 'list every task of a job array instead of one row per array')
    .description("List your jobs (the app's and ones submitted elsewhere) with SLURM's state names, checked with the cluster now.")
    .action(async (opts: { json?: boolean; tasks?: boolean }) => {
      await withCore(open, async (core) => {
        const jobs = core.jobs();
        let failed: unknown = null;
        try {
          await jobs.refresh();
          await jobs.runTriageActions();
        } catch (e) {
          failed = e;
        }
        const list = await jobs.listJobs();
        if (opts.json) printJson(list);
        else process.stdout.write(list.length ? `${jobsTable(list, opts.tasks)}\n` : 'No jobs yet: submit one with `hpc-relay submit`.\n');
        if (failed) {
          process.stderr.write(`hpc-relay: the cluster could not be checked (${describeError(failed)}); these are the last known states.\n`);
          process.exitCode = 1;
        }
      });
    });

  program
    .command('tail')
    .argument('<job>', 'a job id such as 12345 or an array task such as 12345_7')
    .option('-n, --lines <n>', 'how many lines', '20')
    .option('--stderr', "show the job's stderr instead of its stdout")
    .option('--raw', 'print the lines exactly as the job wrote them (terminal escapes included)')
    .description("Print the last lines of a job's output (reads only the end of the file); terminal escapes are removed and invisible characters shown as \\uXXXX unless --raw.")
    .action(async (job: string, opts: { lines: string; stderr?: boolean; raw?: boolean }) => {
      const n = Number(opts.lines);
      if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new UsageError(`-n must be a whole number of lines from 0 to 100000 (got "${opts.lines}").`);
      await withCore(open, async (core) => {
        const r = await core.jobs().tail(job, n, opts.stderr ? 'stderr' : 'stdout');
        // A job's output is untrusted: raw escapes could retitle the terminal or write the clipboard (OSC 52).
        if (r.lines.length) process.stdout.write(`${r.lines.map((l) => (opts.raw ? l : readable(l))).join('\n')}\n`);
      });
    });

  program
    .command('cancel')
    .argument('<job>', 'a job id, an array task (12345_7), or an array id for all its tasks')
    .description('Cancel a job with scancel.')
    .action(async (job: string) => {
      await withCore(open, async (core) => {
        await core.jobs().cancel(job);
        const all = core.jobs().jobsOf(job);
        const open = all.filter((j) => !j.final).length;
        if (all.length > 1) {
          process.stdout.write(`Cancelled job array ${job} (${all.length} tasks${open > 0 ? `; SLURM is stopping ${open}` : ''}).\n`);
        } else {
          const j = all[0];
          process.stdout.write(`Cancelled job ${job}${j?.final ? ` (${j.state})` : ' (SLURM is stopping it)'}.\n`);
        }
      });
    });

  program
    .command('resubmit')
    .argument('<job>', 'a job HPC Relay submitted (an array task is resubmitted alone)')
    .option('--mem <size>', 'new memory, e.g. 12G')
    .option('--time <limit>', 'new time limit, e.g. 06:00:00')
    .option('--partition <name>', 'new partition')
    .option('--param <name=value>', 'a changed template parameter (repeatable)', collect, [])
    .option('--json', 'print {"jobId", "name", "jobIds"}')
    .description('Submit a job again, with changed memory, time, partition or template parameters.')
    .action(async (job: string, opts: { mem?: string; time?: string; partition?: string; param: string[]; json?: boolean }) => {
      const params = parseParams(opts.param);
      await withCore(open, async (core) => {
        const r = await core.jobs().resubmit(job, { ...resources(opts), ...(Object.keys(params).length ? { params } : {}) });
        printSubmitted(r, opts.json);
      });
    });

  program
    .command('watch')
    .argument('[job]', 'a job, array task or array id: print only its changes, and exit once it has ended (0 if it completed, 1 if not)')
    .option('--json', 'one JSON object per line: {"at", "jobId", "name", "from", "to", "source"}; with JOB, a last {"ended": true, "summary", "ok", "best"}')
    .description('Print job state changes as they happen (job ends within seconds via the events file) until Ctrl-C, or until JOB has ended.')
    .action(async (job: string | undefined, opts: { json?: boolean }) => {
      const core = await open();
      const jobs = core.jobs();
      // Detection runs here (events stream + poll tick), but notifications are left to the app or
      // daemon: no channels, so this process never takes outbox rows.
      let keys: string[] | null = null;
      let adopted = false;
      if (job !== undefined) {
        try {
          // One look at the queue first, so a job submitted from a terminal a moment ago is known.
          await jobs.refresh();
          const rows = jobs.jobsOf(job);
          keys = rows.map((j) => j.jobKey);
          adopted = rows.some((j) => j.adopted);
        } catch (e) {
          await core.close();
          throw e;
        }
      }
      // A job submitted from a terminal writes no events line: only the queue tells its end, so
      // while one is watched the queue is looked at every WATCH_ADOPTED_POLL_MS (one squeue).
      const pollMs = adopted ? Math.min(WATCH_ADOPTED_POLL_MS, core.settings.settings().cluster.pollSeconds * 1000) : undefined;
      const rt = new JobsRuntime({
        jobs, session: () => core.cluster().ssh, channels: {}, settings: () => core.settings.settings(), clock: jobs.clock, logger: core.logger.child({ component: 'watch' }), ...(pollMs ? { pollMs } : {}),
      });
      const mine = keys ? new Set(keys) : null;
      let last = jobs.store.lastTransitionId();
      const print = () => {
        for (const { id, t } of jobs.store.transitionsSince(last)) {
          last = id;
          if (mine && !mine.has(t.jobKey)) continue;
          const name = jobs.store.get(t.jobKey)?.name ?? '';
          if (opts.json) process.stdout.write(`${JSON.stringify({ at: new Date(t.at).toISOString(), jobId: t.jobKey, name, from: t.from, to: t.to, source: t.source })}\n`);
          else process.stdout.write(`${new Date(t.at).toISOString()}  ${t.jobKey}  ${name}  ${t.from ?? '(new)'} -> ${t.to}  [${t.source}]\n`);
        }
      };
      const ended = () => keys !== null && keys.every((k) => jobs.store.get(k)?.final);
      const stopping = new AbortController();
      // Transitions from any process on this store (a daemon included) are printed.
      const poll = setInterval(() => {
        print();
        if (ended()) stopping.abort('ended');
      }, 500);
      const onSignal = () => stopping.abort('signal');
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      if (!ended()) {
        await rt.start();
        if (!opts.json) process.stderr.write(`Watching ${job === undefined ? 'your jobs' : `job ${job}`}; Ctrl-C to stop.\n`);
        await new Promise<void>((resolve) => {
          if (stopping.signal.aborted) resolve();
          else stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await rt.stop();
      }
      clearInterval(poll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      print();
      if (keys && ended()) {
        // Its numbers are read before the summary (a terminal job's log, an array's tasks).
        await rt.endMetrics(keys).catch(() => undefined);
        const list = (await jobs.listJobs()).filter((j) => keys?.includes(j.jobId));
        const end = watchSummary(job ?? '', list);
        if (opts.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), jobId: job, ended: true, summary: end.text, ok: end.ok, best: end.best ?? null })}\n`);
        else process.stdout.write(`${end.text}\n`);
        process.exitCode = end.ok ? 0 : 1;
      } else {
        process.exitCode = keys ? 130 : 0;
      }
      await core.close();
    });
}
