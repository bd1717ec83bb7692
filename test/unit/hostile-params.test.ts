/**
 * The template-parameter part of the hostile input corpus, table-driven against the fixture
 * template argv (one parameter of every type): an accepted value becomes exactly one script
 * argument, unchanged, and never an sbatch option; a refused one gets the TemplateError's
 * sentences, naming the parameter, with nothing invisible or line-breaking in them. The accepted
 * ones are submitted to the testbed in test/integration/hostile-params.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TemplateError, findTemplate, loadTemplates, renderJob } from '../../main/core/templates/index.js';
import type { JobTemplate } from '../../main/core/templates/index.js';
import { HOSTILE_TEMPLATES_DIR, expectedArgs, paramCases, rawParams } from '../helpers/hostile-corpus.js';

const CASES = paramCases();
const MARKERS = '/nonexistent/hostile-markers';
const WORK_DIR = '/home/relay/hpc-relay/jobs/0b7d5f5e-hostile';
// Control characters, and the bidi controls that would make a message read differently than it is.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

let argv: JobTemplate;
beforeAll(async () => {
  argv = findTemplate(await loadTemplates(HOSTILE_TEMPLATES_DIR), 'argv');
});

/** `want` appears in `have` in this order (other elements may sit between). */
function isSubsequence(want: readonly string[], have: readonly string[]): boolean {
  let i = 0;
  for (const h of have) if (h === want[i]) i++;
  return i === want.length;
}

describe('hostile template parameters', () => {
  it.each(CASES.filter((c) => c.args).map((c) => [c.id, c] as const))('accepted: %s', (_id, c) => {
    const job = renderJob(argv, rawParams(c, MARKERS), { workDir: WORK_DIR });
    const want = expectedArgs(c, MARKERS);
    expect(isSubsequence(want, job.scriptArgs), `${c.why}: ${JSON.stringify(job.scriptArgs)}`).toBe(true);
    for (const s of c.sbatch ?? []) expect(job.sbatchArgs).toContain(s);
    // The sbatch options are only the template's own: no value became an option or moved the job.
    expect(job.sbatchArgs.map((a) => a.replace(/=.*/s, ''))).toEqual(['--job-name', '--chdir', '--partition', '--time', '--mem']);
    expect(job.sbatchArgs).toContain(`--chdir=${WORK_DIR}`);
    expect(job.script).toBe(job.script.replace(/\{\{MARKER\}\}/g, ''));
  });

  it.each(CASES.filter((c) => c.error).map((c) => [c.id, c] as const))('refused: %s', (_id, c) => {
    let err: unknown;
    try {
      renderJob(argv, rawParams(c, MARKERS), { workDir: WORK_DIR });
    } catch (e) {
      err = e;
    }
    expect(err, c.why).toBeInstanceOf(TemplateError);
    const e = err as TemplateError;
    expect(e.code).toBe('USAGE');
    expect(e.message, c.why).toMatch(new RegExp(c.error ?? '', 'u'));
    expect(e.problems).toHaveLength(c.problems ?? 1);
    for (const p of e.problems) {
      // One sentence each, safe to show in Slack, a terminal or the window.
      expect(p).toMatch(/^[A-Z].*\.$/su);
      expect(p).not.toMatch(UNSAFE);
      expect(p.length).toBeLessThan(400);
    }
    expect(e.message).toBe(e.problems.join(' '));
  });

  it('covers every parameter type and both outcomes', () => {
    const named = new Set(CASES.flatMap((c) => Object.keys(c.params)));
    for (const p of argv.params) expect(named, p.name).toContain(p.name);
    expect(CASES.filter((c) => c.args).length).toBeGreaterThanOrEqual(15);
    expect(CASES.filter((c) => c.error).length).toBeGreaterThanOrEqual(30);
  });
});
