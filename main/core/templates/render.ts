import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TemplateError, validateParams, type RawValue } from './params.js';
import { GRID_FILE } from './schema.js';
import type { JobTemplate, RenderedArray, RenderedJob } from './types.js';
import { parseGrid, splitWords } from './words.js';

export interface RenderOptions {
  /** Where the template's script and files are; defaults to `template.dir` (set by loadTemplates). */
  templatesDir?: string;
  /**
   * The absolute remote directory the script and files are uploaded to. When given it becomes
   * `--chdir=…`, so the job starts there and the script finds its files (the templates look in
   * the working directory, then in $SLURM_SUBMIT_DIR). Not expanded: no `~` or `$HOME`.
   */
  workDir?: string;
}

/** `hpc-relay-<template id>`: how the app's jobs are recognised in squeue and sacct. */
export function jobNameFor(templateId: string): string {
  return `hpc-relay-${templateId}`;
}

/**
 * Validates the values and renders a template into what sbatch needs, as data: no value ever
 * becomes shell text.
 * - a parameter with `sbatch` becomes one sbatchArgs element `--option=value` (a true bool is the
 *   bare option, false leaves it out; an empty string leaves it out);
 * - any other parameter becomes one scriptArgs element `--name=value` (bools `--name` /
 *   `--no-name`; an empty string leaves it out). The `=` form keeps a value that starts with `-`
 *   from being read as an option;
 * - a `rest` parameter is split into words and passed after `--`;
 * - a `grid` parameter becomes a grid file (GRID_FILE, one line per task, tab-separated
 *   `--name=value` fields) and `--array=0-(N-1)[%limit]`.
 * The script is the file's exact text; files are the listed files' bytes (plus the grid file).
 */
export function renderJob(template: JobTemplate, raw: Record<string, RawValue>, opts: RenderOptions = {}): RenderedJob {
  const params = validateParams(template, raw);
  const dir = opts.templatesDir ?? template.dir;
  if (dir === undefined) throw new TemplateError([`Template "${template.id}" was not loaded from a directory; pass templatesDir to renderJob.`]);
  if (opts.workDir !== undefined && (!path.posix.isAbsolute(opts.workDir) || /[\0\n\r]/.test(opts.workDir))) {
    throw new TemplateError([`The job's working directory must be an absolute path on the cluster; got ${JSON.stringify(opts.workDir)}.`]);
  }

  const jobName = jobNameFor(template.id);
  const sbatchArgs = [`--job-name=${jobName}`];
  if (opts.workDir !== undefined) sbatchArgs.push(`--chdir=${opts.workDir}`);
  const scriptArgs: string[] = [];
  let rest: string[] = [];
  let array: RenderedArray | undefined;
  let limit: number | null = null;
  const gridSpec = template.params.find((p) => p.role === 'grid');

  for (const spec of template.params) {
    const v = params[spec.name];
    if (v === undefined) continue;
    if (spec.role === 'array-limit') {
      limit = typeof v === 'number' && v > 0 ? v : null;
    } else if (spec.role === 'grid' || spec.role === 'rest') {
      continue;
    } else if (spec.sbatch !== undefined) {
      if (v === true) sbatchArgs.push(spec.sbatch);
      else if (v !== false && v !== '') sbatchArgs.push(`${spec.sbatch}=${String(v)}`);
    } else if (typeof v === 'boolean') {
      scriptArgs.push(v ? `--${spec.name}` : `--no-${spec.name}`);
    } else if (v !== '') {
      scriptArgs.push(`--${spec.name}=${String(v)}`);
    }
  }

  const restSpec = template.params.find((p) => p.role === 'rest');
  const restValue = restSpec ? params[restSpec.name] : undefined;
  if (typeof restValue === 'string') {
    const w = splitWords(restValue);
    if (w.ok) rest = w.value;
  }
  if (rest.length > 0) scriptArgs.push('--', ...rest);

  const files = template.files.map((name) => ({ name, content: readFileSync(path.join(dir, name)) }));
  const gridValue = gridSpec ? params[gridSpec.name] : undefined;
  if (typeof gridValue === 'string') {
    const g = parseGrid(gridValue);
    if (!g.ok) throw new TemplateError([`Parameter "${gridSpec?.name ?? 'grid'}" ${g.problem}.`]);
    const tasks = g.value.tasks;
    const lines = tasks.map((t) => Object.entries(t).map(([k, val]) => `--${k}=${val}`).join('\t'));
    files.push({ name: GRID_FILE, content: Buffer.from(lines.join('\n') + '\n', 'utf8') });
    array = { size: tasks.length, limit, tasks };
    sbatchArgs.push(`--array=0-${tasks.length - 1}${limit !== null ? `%${limit}` : ''}`);
  }

  const job: RenderedJob = {
    templateId: template.id,
    jobName,
    script: readFileSync(path.join(dir, template.script), 'utf8'),
    files,
    sbatchArgs,
    scriptArgs,
    params,
  };
  if (array) job.array = array;
  return job;
}
