/**
 * The template-parameter part of the hostile input corpus through the real job service to the
 * testbed: every accepted value is submitted (sbatch over the SSH session, the relay's wrapper,
 * bash) and the job prints it back exactly; every refused value is refused before anything is
 * uploaded or submitted; and a marker directory the cluster user can write to stays empty.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TemplateError } from '../../main/core/templates/index.js';
import { expectedArgs, paramCases, rawParams } from '../helpers/hostile-corpus.js';
import { allFinal, hostileBed, isSubsequence, markersLeft } from '../helpers/hostile-testbed.js';
import type { HostileBed } from '../helpers/hostile-testbed.js';

const tb = inject('testbed');
const CASES = paramCases();
let bed: HostileBed;

beforeAll(async () => {
  bed = await hostileBed(tb, 'params');
});
afterAll(async () => {
  await bed?.close();
});

describe('hostile template parameters on the testbed', () => {
  it('refused values: the TemplateError sentence, and nothing is uploaded or submitted', async () => {
    await bed.jobs.remoteDir();
    const before = bed.cluster.programs.length;
    for (const c of CASES.filter((x) => x.error)) {
      const err = await bed.jobs.submit('argv', rawParams(c, bed.markers)).then(() => null, (e: unknown) => e);
      expect(err, `${c.id}: ${c.why}`).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).message, c.id).toMatch(new RegExp(c.error ?? '', 'u'));
    }
    expect(bed.cluster.programs.slice(before)).toEqual([]);
    expect(bed.jobs.store.list()).toEqual([]);
  });

  it('accepted values: each job prints every value back exactly as given; no marker appears', async () => {
    const runs: Array<{ id: string; jobId: string; want: string[] }> = [];
    for (const c of CASES.filter((x) => x.args)) {
      const r = await bed.jobs.submit('argv', rawParams(c, bed.markers));
      runs.push({ id: c.id, jobId: r.jobId, want: expectedArgs(c, bed.markers).map((a) => `ARG[${a}]`) });
    }
    expect(bed.cluster.programs.filter((p) => p === 'sbatch')).toHaveLength(runs.length);
    await allFinal(bed.jobs, runs.map((r) => r.jobId), 200_000);
    for (const r of runs) {
      const out = (await bed.jobs.tail(r.jobId, 200)).lines;
      expect(bed.jobs.store.get(r.jobId), `${r.id}: ${out.join('\n')}`).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect(isSubsequence(r.want, out), `${r.id} printed:\n${out.join('\n').slice(0, 3000)}\nexpected, in order:\n${r.want.join('\n').slice(0, 3000)}`).toBe(true);
      expect(out.at(-1)).toBe('done');
    }
    expect(markersLeft(bed.markers)).toEqual([]);
  }, 240_000);
});
