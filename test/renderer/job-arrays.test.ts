/**
 * A job array in the window's Jobs list, in Debian's Chromium against the built renderer, its
 * `window.hpc` bound to a REAL core on the testbed (window-harness.ts): a 3-task array submitted
 * through the core's job service shows as ONE row, `<id>_[0-2]`, its tasks hidden; its disclosure
 * (a button with aria-expanded and aria-controls) shows the three task rows under it from the
 * keyboard or a click; a task row opens that task's page; a search that leaves one task shows it
 * as a plain row, and the count still counts tasks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Core } from '../../main/core/index.js';
import { jobsServiceFactory } from '../../main/core/jobs/jobs-runtime.js';
import type { SubmitResult } from '../../main/core/jobs/index.js';
import { Runtime } from '../../main/core/runtime/runtime.js';
import { testbedCore } from '../helpers/testbed-core.js';
import { launchChromium, watchedPage } from './browser.js';
import { serveDirectory } from './static-server.js';
import type { StaticServer } from './static-server.js';
import { bindWindow } from './window-harness.js';
import type { BoundWindow } from './window-harness.js';

const tb = inject('testbed');
const root = path.join(import.meta.dirname, '..', '..');
const rendererDir = path.join(root, 'out', 'renderer');
const SCRIPTS = path.join(root, 'test', 'fixtures', 'slurm', 'scripts');
/** Every run's screenshots: a test artifact (test/artifacts is gitignored). */
const shotsDir = path.join(root, 'test', 'artifacts', 'screenshots');
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const REMOTE_DIR = `hpc-relay-ui-arrays-${RUN}`;

let server: StaticServer;
let browser: Browser;
let page: Page;
let core: Core;
let runtime: Runtime;
let bound: BoundWindow;
let sub: SubmitResult;
const pageProblems: string[] = [];

const activeText = () => page.evaluate(() => document.activeElement?.textContent ?? null);

beforeAll(async () => {
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error('out/renderer/index.html is missing: build the renderer first with `npx electron-vite build` (npm run test:renderer does).');
  }
  fs.mkdirSync(shotsDir, { recursive: true });
  core = testbedCore(tb, { settings: { 'cluster.remoteDir': `$HOME/${REMOTE_DIR}` } });
  // The app's job service keeps the store current (tick + events watcher); its tray is a no-op here.
  runtime = new Runtime(core, [jobsServiceFactory({ channels: () => ({ tray: { notify: async () => undefined } }) })]);
  await runtime.start();
  // A 3-task array (the fixture prints `task N`), submitted as from the CLI or Slack: one sbatch, three store rows.
  sub = await core.jobs().submitScript({ name: 'array.sh', content: fs.readFileSync(path.join(SCRIPTS, 'array.sh'), 'utf8'), sbatchArgs: ['--array=0-2'] });
  expect(sub.jobIds).toEqual([0, 1, 2].map((t) => `${sub.jobId}_${t}`));

  server = await serveDirectory(rendererDir);
  browser = await launchChromium();
  page = await watchedPage(browser, { viewport: { width: 1100, height: 720 }, colorScheme: 'light' }, pageProblems);
  bound = await bindWindow(page, core, runtime);
  await page.goto(server.url);
}, 120_000);

afterAll(async () => {
  bound?.dispose();
  await browser?.close();
  await server?.close();
  await core
    ?.cluster()
    .exec(['sh', '-c', 'rm -rf -- "$HOME/$1"', 'sh', REMOTE_DIR], { timeoutMs: 30_000 })
    .catch(() => undefined);
  await runtime?.stop();
  await core?.close();
}, 60_000);

describe('a job array in the Jobs list', () => {
  it('is one row with its task ranges, whose disclosure shows the task rows (keyboard and click), each opening its job', async () => {
    const base = sub.jobId;
    // Configured: the window opens on Jobs.
    await expect.poll(() => activeText(), { timeout: 30_000 }).toBe('Jobs');
    const table = page.getByRole('table', { name: 'Jobs' });
    const group = table.locator(`tr[data-array-id="${base}"]`);
    await group.waitFor({ timeout: 30_000 });
    const taskRows = table.locator('tr[data-job-id]');

    // One row for the array, none for its tasks; the count counts tasks.
    expect(await table.locator('tbody tr').count()).toBe(1);
    expect(await taskRows.count()).toBe(0);
    await expect.poll(() => page.getByRole('search', { name: 'Filter jobs' }).locator('[aria-live]').textContent()).toBe('3 of 3');
    const cells = group.locator('td');
    await expect.poll(() => cells.nth(0).textContent()).toMatch(new RegExp(`${base}_\\[0-2\\]$`));
    expect(await cells.nth(1).textContent()).toBe('relay-array');
    // The states: one badge while the tasks share one, else the counts as text (whichever the scheduler has them in now).
    expect(await cells.nth(2).textContent()).toMatch(/^[A-Z_]+$|^\d [a-z_]+(, \d [a-z_]+)+$/);
    expect(await cells.nth(6).textContent()).toBe('3 tasks');

    // The disclosure: a real button, collapsed, controlling the tasks' body.
    const disclosure = group.getByRole('button', { name: `Show the 3 tasks of array ${base}_[0-2]` });
    expect(await disclosure.getAttribute('aria-expanded')).toBe('false');
    const controls = (await disclosure.getAttribute('aria-controls')) ?? '';
    expect(controls).not.toBe('');
    const tasksBody = page.locator(`[id="${controls}"]`);
    expect(await tasksBody.count()).toBe(1);

    // From the keyboard: focus it and press Enter.
    await disclosure.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => disclosure.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => tasksBody.locator('tr[data-job-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')))).toEqual(sub.jobIds);
    for (const id of sub.jobIds) expect(await tasksBody.locator(`tr[data-job-id="${id}"]`).isVisible()).toBe(true);
    // Right under the group's row, in the table's order.
    expect(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-array-id') ?? r.getAttribute('data-job-id')))).toEqual([base, ...sub.jobIds]);
    // A look at it (a test artifact, gitignored).
    await page.screenshot({ path: path.join(shotsDir, 'jobs-array.png') });

    // A click closes it (Space too is a button's), and opens it again.
    await disclosure.click();
    await expect.poll(() => disclosure.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => taskRows.count()).toBe(0);
    await page.keyboard.press('Space');
    await expect.poll(() => disclosure.getAttribute('aria-expanded')).toBe('true');
    await disclosure.click();
    await expect.poll(() => taskRows.count()).toBe(0);
    await disclosure.click();
    await expect.poll(() => taskRows.count()).toBe(3);

    // A task row opens that task's page.
    const task = `${base}_1`;
    await tasksBody.getByRole('button', { name: `Open job ${task}` }).click();
    await expect.poll(() => activeText(), { timeout: 30_000 }).toMatch(new RegExp(`^Job ${task}\\b`));

    // Back on the list: a search that leaves one task shows it as a plain row, and the count still counts tasks.
    await page.getByRole('button', { name: '← All jobs' }).click();
    await group.waitFor({ timeout: 30_000 });
    await page.getByLabel('Search', { exact: true }).fill(task);
    await expect.poll(() => group.count()).toBe(0);
    await expect.poll(() => table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job-id')))).toEqual([task]);
    expect(await page.getByRole('search', { name: 'Filter jobs' }).locator('[aria-live]').textContent()).toBe('1 of 3');
    await page.getByLabel('Search', { exact: true }).fill('');
    await expect.poll(() => group.count()).toBe(1);

    // Once all three have ended: the one state they share as a badge, and an elapsed time.
    await expect
      .poll(
        async () => {
          await core.jobs().refresh();
          return group.locator('td .badge').textContent({ timeout: 1000 }).catch(() => null);
        },
        { timeout: 150_000, interval: 2000 },
      )
      .toBe('COMPLETED');
    expect(sub.jobIds.map((k) => core.jobs().store.get(k)?.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(await cells.nth(3).textContent()).toMatch(/^\d+s$|^\d+m \d+s$/);
    expect(bound.failures).toEqual([]);
    expect(pageProblems).toEqual([]);
  }, 240_000);
});
