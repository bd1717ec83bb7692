/**
 * The window's job channels over the core's job service: the list (from the local store, which
 * the job service's tick and events watcher keep current), detail, output, metrics, cancel,
 * resubmit, and submission from a template whose form the window builds from its parameter
 * schema. No Electron here: the renderer tests bind these same functions into a browser page.
 */
import type { ChannelsFor, JobDetailView, JobSummaryView, MetricSeries, ParamProblem, SubmitResultView, TemplateView } from '../../preload/contract.js';
import { isSlackPermalink } from '../app/external-links.js';
import { RelayError } from '../core/errors.js';
import type { Core } from '../core/index.js';
import type { JobSummary, SubmitResult } from '../core/jobs/index.js';
import { slackHub } from '../core/slack/wiring.js';
import { keyMetric as coreKeyMetric } from '../core/slurm/metrics-parser.js';
import { getOption } from '../core/slurm/sbatch.js';
import type { StoredPoint } from '../core/store/metrics-store.js';
import { expectation, findTemplate, loadTemplates, TemplateError, templatesDir, validateParams, validateValue } from '../core/templates/index.js';
import type { JobTemplate, RawValue } from '../core/templates/index.js';
import type { InvokeHandler } from './invoke.js';

type JobChannel = Extract<ChannelsFor<'window'>, `jobs:${string}` | `templates:${string}`>;
export type JobHandlers = { [C in JobChannel]: InvokeHandler<C> };

export interface JobHandlerDeps {
  core(): Promise<Core>;
  /** Where the bundled templates are (templatesDir() finds a checkout's). */
  templatesDir?: () => string;
  /** Opens a link in the system browser (Electron's shell.openExternal in the app). */
  openExternal(url: string): Promise<void>;
}

/** Where a series is read from, most trusted first, when it is written to several places. */
const SOURCE_RANK = ['csv', 'log', 'summary'];
const LOG_CAP_BYTES = 64 * 1024;

export function jobHandlers({ core, templatesDir: dir = () => templatesDir(), openExternal }: JobHandlerDeps): JobHandlers {
  const templates = async (): Promise<JobTemplate[]> => loadTemplates(dir());
  const list = async (): Promise<JobSummaryView[]> => {
    const c = await core();
    const jobs = c.jobs();
    return (await jobs.listJobs()).map((j) => summaryView(j, keyMetric(jobs.metrics.series(j.jobId))));
  };

  return {
    'jobs:list': list,
    'jobs:refresh': async () => {
      await (await core()).jobs().refresh();
      return list();
    },
    'jobs:detail': async (jobId) => detailView(await core(), jobId),
    'jobs:log': async (jobId, stream, offset) => {
      const r = await (await core()).jobs().readOutput(jobId, offset, stream, LOG_CAP_BYTES);
      return { text: r.text, start: r.nextOffset - r.bytesRead, nextOffset: r.nextOffset, size: r.size };
    },
    'jobs:metrics': async (jobId) => {
      const jobs = (await core()).jobs();
      const key = jobs.job(jobId).jobKey;
      await jobs.metricsReader.refresh([key]);
      return seriesViews(jobs.metrics.series(key));
    },
    'jobs:cancel': async (jobId) => {
      const c = await core();
      await c.jobs().cancel(jobId);
      return detailView(c, jobId);
    },
    'jobs:openSlackThread': async (jobId) => {
      const c = await core();
      const permalink = await slackHub(c).threadPermalink(c.jobs().job(jobId).jobKey);
      // Only Slack's own https links leave the app: whatever else an API answers is not opened.
      if (!isSlackPermalink(permalink)) {
        c.logger.warn('refused to open a Slack thread link that is not an https slack.com link', { jobId });
        throw new RelayError('EXTERNAL_URL_REFUSED', 'Slack answered with a thread link that is not an https link on slack.com, so it was not opened.', {
          fix: 'Check slack.apiUrl: it should be Slack’s own API (https://slack.com/api/) or a proxy that passes its answers through unchanged.',
        });
      }
      await openExternal(permalink);
      return { permalink };
    },
    'jobs:resubmit': async (jobId, changes) => submitView(await (await core()).jobs().resubmit(jobId, dropUndefined(changes))),
    'jobs:submit': async (templateId, values) => {
      const template = findTemplate(await templates(), templateId);
      // The same validation the form showed; the job service renders (and validates) once more.
      validateParams(template, values);
      return submitView(await (await core()).jobs().submit(templateId, asStrings(values)));
    },
    'templates:list': async () => (await templates()).map(templateView),
    'templates:validate': async (templateId, values) => problemsOf(findTemplate(await templates(), templateId), values),
  };
}

function dropUndefined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

/** The job service takes the values as text, as typed on the CLI or in Slack. */
function asStrings(values: Record<string, RawValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

function submitView(r: SubmitResult): SubmitResultView {
  return { jobId: r.jobId, name: r.name ?? null, jobIds: r.jobIds };
}

function summaryView(j: JobSummary, metric: JobSummaryView['keyMetric']): JobSummaryView {
  return {
    jobId: j.jobId, name: j.name, state: j.state, final: j.final, elapsedSec: j.elapsedSec, partition: j.partition ?? null, where: j.where ?? null,
    templateId: j.templateId ?? null, exitCode: j.exitCode, adopted: j.adopted, keyMetric: metric,
  };
}

export function keyMetric(points: readonly StoredPoint[]): JobSummaryView['keyMetric'] {
  if (points.length === 0) return null;
  // The core's key metric (val_acc, else a loss …), else the first series.
  const key = coreKeyMetric(new Set(points.map((p) => p.series)));
  const series = key?.name ?? points[0]?.series;
  let best: StoredPoint | null = null;
  for (const p of points) {
    if (p.series !== series || p.source === 'summary') continue;
    if (!best || p.step > best.step) best = p;
  }
  best ??= points.find((p) => p.series === series) ?? null;
  return best ? { series: best.series, value: best.value, step: best.step, goal: key?.goal ?? null } : null;
}

/** One series per name, from the source with the most points (metrics.csv over the log on a tie). */
export function seriesViews(points: readonly StoredPoint[]): MetricSeries[] {
  const by = new Map<string, Map<string, [number, number | null][]>>();
  for (const p of points) {
    const sources = by.get(p.series) ?? new Map<string, [number, number | null][]>();
    const pts = sources.get(p.source) ?? [];
    pts.push([p.step, p.value]);
    sources.set(p.source, pts);
    by.set(p.series, sources);
  }
  const rank = (s: string) => (SOURCE_RANK.indexOf(s) + SOURCE_RANK.length + 1) % (SOURCE_RANK.length + 1);
  return [...by].sort(([a], [b]) => a.localeCompare(b)).map(([series, sources]) => {
    const [source, pts] = [...sources].sort(([sa, a], [sb, b]) => b.length - a.length || rank(sa) - rank(sb))[0] ?? ['', []];
    return { series, source, points: [...pts].sort((a, b) => a[0] - b[0]) };
  });
}

async function detailView(core: Core, jobId: string): Promise<JobDetailView> {
  const jobs = core.jobs();
  const row = jobs.job(jobId);
  const summary = (await jobs.listJobs()).find((j) => j.jobId === row.jobKey);
  const sub = row.submissionId ? jobs.store.submission(row.submissionId) : null;
  const job: JobSummaryView = summary
    ? summaryView(summary, keyMetric(jobs.metrics.series(row.jobKey)))
    : {
      jobId: row.jobKey, name: row.name, state: row.state, final: row.final, elapsedSec: row.elapsedSec, partition: row.partition, where: row.nodeList, templateId: null,
      exitCode: null, adopted: row.adopted, keyMetric: keyMetric(jobs.metrics.series(row.jobKey)),
    };
  return {
    job,
    maxRssBytes: row.maxRssBytes,
    reqMemBytes: row.reqMemBytes,
    timeLimitSec: row.timeLimitSec,
    nodeList: row.nodeList,
    failureClass: row.failureClass,
    submission: sub
      ? {
        kind: sub.kind, source: sub.source, params: jsonParams(sub.params), remoteDir: sub.remoteDir, submittedAt: sub.submittedAt, resubmitOf: sub.resubmitOf,
        mem: getOption(sub.sbatchArgs, '--mem'), time: getOption(sub.sbatchArgs, '--time'),
      }
      : null,
    transitions: jobs.store.transitions(row.jobKey).map((t) => ({ from: t.from, to: t.to, source: t.source, at: t.at })),
    slackThread: slackHub(core).jobThread(row.jobKey) !== undefined,
  };
}

type Json = JobDetailView extends { submission: infer S } ? (S extends { params: Record<string, infer V> } ? V : never) : never;

function jsonParams(params: Record<string, unknown>): Record<string, Json> {
  // Stored as JSON by the job store: strings, numbers and booleans of the validated values.
  return JSON.parse(JSON.stringify(params)) as Record<string, Json>;
}

function templateView(t: JobTemplate): TemplateView {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    params: t.params.map((p) => ({ ...p, expected: expectation(p) })),
  };
}

/**
 * Every problem with the values, by parameter: each value checked alone (so the form can show the
 * sentence under its field), then the whole set (unknown names, required ones missing).
 */
export function problemsOf(template: JobTemplate, values: Record<string, RawValue>): ParamProblem[] {
  const problems: ParamProblem[] = [];
  const specs = new Map(template.params.map((p) => [p.name, p]));
  for (const [name, raw] of Object.entries(values)) {
    const spec = specs.get(name);
    if (!spec) continue;
    const blank = typeof raw === 'string' && raw.trim() === '' && spec.type !== 'string' && spec.type !== 'path';
    if (blank) continue;
    const r = validateValue(spec, raw);
    if (!r.ok) problems.push({ param: name, message: r.problem });
  }
  try {
    validateParams(template, values);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    for (const message of e.problems) {
      if (problems.some((p) => p.message === message)) continue;
      const param = template.params.find((p) => message.startsWith(`Parameter "${p.name}"`))?.name ?? null;
      problems.push({ param, message });
    }
  }
  return problems;
}
