/**
 * The hostile corpus on the real testbed: a core and the real job service (fixture templates
 * beside the bundled ones) in a remote directory of their own, a marker directory the cluster
 * user `relay` can write to (so a command that ran would leave a file and the test could fail),
 * and waiting for jobs to end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { createJobService } from '../../main/core/jobs/index.js';
import type { JobService, TemplateRenderer } from '../../main/core/jobs/index.js';
import { findTemplate, loadTemplates, renderJob, templatesDir } from '../../main/core/templates/index.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';
import { HOSTILE_TEMPLATES_DIR } from './hostile-corpus.js';
import { makeHome } from './temp-home.js';
import { testbedCore } from './testbed-core.js';
import { CountingCluster } from './counting-cluster.js';
import { until } from './wait.js';

export { until };


/** The fixture templates (argv) and the bundled ones, rendered by the real renderer. */
export function hostileTemplates(): TemplateRenderer {
  return {
    async render(templateId, params, workDir) {
      const all = [...await loadTemplates(HOSTILE_TEMPLATES_DIR), ...await loadTemplates(templatesDir())];
      return renderJob(findTemplate(all, templateId), params, { workDir });
    },
  };
}

export interface HostileBed {
  core: Core;
  cluster: CountingCluster;
  jobs: JobService;
  /** Local directory, mode 777, on the filesystem the testbed's jobs see. */
  markers: string;
  close(): Promise<void>;
}

export async function hostileBed(tb: TestbedInfo, label: string): Promise<HostileBed> {
  const remoteDir = `$HOME/hpc-relay-it/hostile-${process.pid}-${label}`;
  const core = testbedCore(tb, { settings: { 'cluster.remoteDir': remoteDir } });
  const cluster = new CountingCluster(core.cluster().ssh);
  const jobs = createJobService({ db: core.db(), cluster: () => cluster, settings: () => core.settings.settings(), logger: core.logger, templates: hostileTemplates() });
  const markers = makeHome(`hostile-markers-${label}`);
  fs.chmodSync(markers, 0o777);
  // The positive control: the cluster user can create a file there, so a marker would show.
  const canary = path.join(markers, 'canary');
  await cluster.run(['touch', '--', canary]);
  expect(fs.existsSync(canary), `the cluster user ${tb.user} cannot write to ${markers}: the marker test could never fail`).toBe(true);
  fs.rmSync(canary);
  return {
    core, cluster, jobs, markers,
    async close() {
      // Only this bed's own jobs: other runs may share the testbed, and their jobs are adopted here too.
      const open = [...new Set(jobs.store.unfinished().filter((j) => !j.adopted).map((j) => j.baseId))];
      if (open.length) await cluster.exec(['scancel', ...open]).catch(() => undefined);
      await cluster.exec(['sh', '-c', 'rm -rf -- "$HOME/hpc-relay-it/$1"', 'sh', `hostile-${process.pid}-${label}`]).catch(() => undefined);
      await core.close();
    },
  };
}


/** Ticks the job service until every job is final (one squeue + one sacct a tick). */
export async function allFinal(jobs: JobService, keys: readonly string[], timeoutMs = 150_000): Promise<void> {
  await until(`jobs ${keys.join(', ')} to end`, async () => {
    await jobs.refresh();
    return keys.every((k) => jobs.store.get(k)?.final);
  }, timeoutMs, 2000);
}

/** `want` appears in `have` in this order (other elements may sit between). */
export function isSubsequence(want: readonly string[], have: readonly string[]): boolean {
  let i = 0;
  for (const h of have) if (i < want.length && h === want[i]) i++;
  return i === want.length;
}

/** What is in the marker directory: empty unless something ran that should not have. */
export function markersLeft(dir: string): string[] {
  return fs.readdirSync(dir);
}
