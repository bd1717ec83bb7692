import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TemplateError, compilePattern, validateValue } from './params.js';
import type { JobTemplate, ParamSpec } from './types.js';

/** The grid file a `grid` parameter renders into, uploaded beside the script (sweep.slurm reads it). */
export const GRID_FILE = 'sweep_grid.tsv';

/** sbatch options the renderer sets itself; a parameter may not claim them. */
const RESERVED_SBATCH = new Set(['--job-name', '--array', '--chdir', '--output', '--error', '--parsable', '--wrap']);
const ID = /^[a-z][a-z0-9_]{0,39}$/;
const PARAM_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const SBATCH_OPTION = /^--[a-z][a-z-]*$/;
const NUMERIC_TYPES = new Set(['int', 'float', 'duration', 'memory']);

const relativeFile = z.string().min(1).refine(
  (p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..') && !p.includes('\0'),
  { message: 'must be a path inside the templates directory (relative, no "..")' },
);

const paramSchema = z.strictObject({
  name: z.string().regex(PARAM_NAME, { message: 'must be lower_snake_case (a-z, 0-9, _), starting with a letter' }),
  type: z.enum(['int', 'float', 'string', 'bool', 'enum', 'path', 'duration', 'memory']),
  help: z.string().trim().min(1, { message: 'must say what the parameter does' }),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  required: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  choices: z.array(z.string().min(1)).min(1).optional(),
  sbatch: z.string().regex(SBATCH_OPTION, { message: 'must be a long sbatch option such as --mem' })
    .refine((o) => !RESERVED_SBATCH.has(o), { message: 'is set by HPC Relay itself and cannot be a parameter' }).optional(),
  pattern: z.string().min(1).optional(),
  role: z.enum(['rest', 'grid', 'array-limit']).optional(),
  advanced: z.boolean().optional(),
});

const templateSchema = z.strictObject({
  id: z.string().regex(ID, { message: 'must be lower_snake_case, starting with a letter' }),
  title: z.string().trim().min(1),
  description: z.string().trim().min(1),
  params: z.array(paramSchema),
  script: relativeFile,
  files: z.array(relativeFile),
  outputs: z.strictObject({
    dirParam: z.string(),
    taskSubdir: z.string().min(1).optional(),
    metrics: z.string().min(1).optional(),
    summary: z.string().min(1).optional(),
    checkpoint: z.string().min(1).optional(),
  }).optional(),
}).superRefine((t, ctx) => {
  const issue = (p: (string | number)[], message: string): void => { ctx.addIssue({ code: 'custom', path: p, message }); };
  const seen = new Set<string>();
  const sbatch = new Set<string>();
  const roles = new Map<string, number>();
  t.params.forEach((raw, i) => {
    const p = raw as ParamSpec;
    const at = (f: string): (string | number)[] => ['params', i, f];
    if (seen.has(p.name)) issue(at('name'), `repeats the parameter name "${p.name}"`);
    seen.add(p.name);
    if (p.sbatch !== undefined) {
      if (sbatch.has(p.sbatch)) issue(at('sbatch'), `repeats the sbatch option ${p.sbatch}`);
      sbatch.add(p.sbatch);
    }
    if ((p.min !== undefined || p.max !== undefined) && !NUMERIC_TYPES.has(p.type)) issue(at('min'), `min/max only apply to int, float, duration and memory, not ${p.type}`);
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) issue(at('min'), `is greater than max (${p.max})`);
    if (p.type === 'enum' && p.choices === undefined) issue(at('choices'), 'is required for an enum');
    if (p.type !== 'enum' && p.choices !== undefined) issue(at('choices'), `only applies to enum, not ${p.type}`);
    if (p.pattern !== undefined) {
      if (p.type !== 'string') issue(at('pattern'), `only applies to string, not ${p.type}`);
      if (compilePattern(p.pattern) === null) issue(at('pattern'), 'is not a valid regular expression');
    }
    if (p.role !== undefined) {
      roles.set(p.role, (roles.get(p.role) ?? 0) + 1);
      const want = p.role === 'array-limit' ? 'int' : 'string';
      if (p.type !== want) issue(at('role'), `${p.role} needs type ${want}, not ${p.type}`);
      if (p.sbatch !== undefined) issue(at('sbatch'), `a ${p.role} parameter cannot also be an sbatch option`);
    }
    if (p.required && p.default !== undefined) issue(at('default'), 'makes no sense for a required parameter');
    if (p.default !== undefined && (p.pattern === undefined || compilePattern(p.pattern) !== null)) {
      const r = validateValue(p, p.default);
      if (!r.ok) issue(at('default'), `is invalid: ${r.problem}`);
    }
  });
  for (const [role, n] of roles) if (n > 1) issue(['params'], `has ${n} parameters with role ${role}; at most one is allowed`);
  if (roles.has('array-limit') && !roles.has('grid')) issue(['params'], 'has an array-limit parameter but no grid parameter');
  if (t.outputs !== undefined && !seen.has(t.outputs.dirParam)) issue(['outputs', 'dirParam'], `names "${t.outputs.dirParam}", which is not a parameter`);
  if (roles.has('grid') && [t.script, ...t.files].includes(GRID_FILE)) issue(['files'], `may not contain ${GRID_FILE}: the grid parameter renders it`);
});

function fieldPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`), '');
}

/** Validates one parsed schema file; `file` names it in errors. The id must be the file's stem. */
export function parseTemplate(json: unknown, file: string): JobTemplate {
  const r = templateSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => {
      const where = fieldPath(i.path);
      return `Template file ${file} is invalid at ${where === '' ? 'the top level' : where}: ${i.message}.`.replace(/\.\.$/, '.');
    });
    throw new TemplateError(problems);
  }
  const t = r.data as JobTemplate;
  const stem = path.basename(file, '.json');
  if (t.id !== stem) throw new TemplateError([`Template file ${file} is invalid at id: it is "${t.id}", but the file is named ${stem}.json.`]);
  return t;
}

async function checkFile(dir: string, file: string, rel: string, field: string): Promise<void> {
  const full = path.join(dir, rel);
  const s = await stat(full).catch(() => null);
  if (!s?.isFile()) throw new TemplateError([`Template file ${file} is invalid at ${field}: ${rel} is not a file in ${dir}.`]);
}

/**
 * Reads and validates every `*.json` template schema in `dir`, checks that the scripts and files
 * they name exist there, and returns them sorted by id with `dir` set (renderJob reads from it).
 */
export async function loadTemplates(dir: string): Promise<JobTemplate[]> {
  const names = (await readdir(dir).catch((e: unknown) => {
    throw new TemplateError([`The templates directory ${dir} cannot be read (${(e as Error).message}).`], { cause: e });
  })).filter((n) => n.endsWith('.json')).sort();
  const out: JobTemplate[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const text = await readFile(file, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TemplateError([`Template file ${file} is not valid JSON (${(e as Error).message}).`], { cause: e });
    }
    const t = parseTemplate(json, file);
    await checkFile(dir, file, t.script, 'script');
    const script = await readFile(path.join(dir, t.script));
    if (!script.subarray(0, 2).equals(Buffer.from('#!')) || !Buffer.from(script.toString('utf8'), 'utf8').equals(script)) {
      throw new TemplateError([`Template file ${file} is invalid at script: ${t.script} must be UTF-8 text starting with #!.`]);
    }
    for (const [i, f] of t.files.entries()) await checkFile(dir, file, f, `files[${i}]`);
    out.push({ ...t, dir });
  }
  return out;
}

/** The template with this id, or an error listing the ids there are. */
export function findTemplate(templates: readonly JobTemplate[], id: string): JobTemplate {
  const t = templates.find((x) => x.id === id.trim());
  if (t) return t;
  throw new TemplateError([`There is no template ${JSON.stringify(id)}; the templates are ${templates.map((x) => x.id).join(', ') || '(none)'}.`]);
}
