/**
 * The doctor panel in a real browser (Debian's Chromium) against the real renderer build,
 * with the CSP from index.html in force. `window.hpc` is a test double with the contract's
 * shapes; its calls cross into Node through exposed functions, as IPC crosses into main.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { AppInfo, DoctorCheck, IpcResult } from '../../preload/contract.js';
import { launchChromium, watchedPage } from './browser.js';
import { serveDirectory } from './static-server.js';
import type { StaticServer } from './static-server.js';

const root = join(import.meta.dirname, '..', '..');
const rendererDir = join(root, 'out', 'renderer');
const artifactsDir = join(root, 'test', 'artifacts');
const hostile = '<img src=x onerror=window.__pwned=1>';

const checks: DoctorCheck[] = [
  { id: 'keychain', ok: true, message: 'The Secret Service keyring is reachable.', fix: null },
  {
    id: 'ssh',
    ok: false,
    message: `The login node answered: ${hostile}`,
    fix: 'Check the host name in the SSH settings, then run the checks again.',
  },
];

let server: StaticServer;
let browser: Browser;
let page: Page;
let doctorResult: IpcResult<DoctorCheck[]>;
let doctorCalls: number;
let pageProblems: string[];

beforeAll(async () => {
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error('out/renderer/index.html is missing: build the renderer first with `npx electron-vite build` (npm run test:renderer does).');
  }
  server = await serveDirectory(rendererDir);
  browser = await launchChromium();
  await mkdir(artifactsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

beforeEach(async () => {
  doctorCalls = 0;
  doctorResult = { ok: true, value: checks };
  pageProblems = [];
  page = await watchedPage(browser, { viewport: { width: 900, height: 560 } }, pageProblems);

  const appInfo: IpcResult<AppInfo> = { ok: true, value: { version: '0.1.0', platform: 'linux' } };
  await page.exposeFunction('__testAppInfo', () => appInfo);
  await page.exposeFunction('__testDoctorRun', () => {
    doctorCalls += 1;
    return doctorResult;
  });
  await page.addInitScript(() => {
    type Bridge = (...args: unknown[]) => Promise<unknown>;
    const w = window as unknown as Record<string, Bridge | object>;
    const bridge = (name: string) => w[name] as Bridge;
    const status = {
      ssh: { state: 'off', detail: null },
      slack: { state: 'off', detail: null },
      model: { state: 'off', detail: null },
      jobs: { known: false, running: [] },
      unseen: { succeeded: 0, failed: 0 },
      notificationsPausedUntil: null,
    };
    w['hpc'] = Object.freeze({
      appInfo: () => bridge('__testAppInfo')(),
      doctorRun: () => bridge('__testDoctorRun')(),
      clusterPartitions: () =>
        Promise.resolve({ ok: false, error: { code: 'SSH_NOT_CONFIGURED', message: 'Not connected.', fix: null } }),
      statusGet: () => Promise.resolve({ ok: true, value: status }),
      // The window opens on the doctor, as after a tray "Doctor…" click.
      navigationTake: () => Promise.resolve({ ok: true, value: { view: 'doctor' } }),
      settingsGet: () => Promise.resolve({ ok: true, value: { path: '/tmp/config.json', entries: [], problems: [] } }),
      onStatusChanged: () => () => undefined,
      onNavigate: () => () => undefined,
    });
  });
});

async function open(): Promise<void> {
  await page.goto(server.url);
  await expect.poll(() => page.getByLabel('Version').textContent()).toBe('v0.1.0 · linux');
  // The screen the window opens on takes the focus at its heading.
  await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Doctor');
}

describe('doctor panel', () => {
  it('runs the checks and lists them, rendering hostile text as text', async () => {
    await open();
    await page.getByRole('button', { name: 'Run checks' }).click();

    const rows = page.getByRole('list', { name: 'Check results' }).getByRole('listitem');
    await rows.first().waitFor();
    expect(doctorCalls).toBe(1);
    expect(await rows.count()).toBe(2);

    const [passed, failed] = [rows.nth(0), rows.nth(1)];
    expect(await passed.getByRole('img').getAttribute('aria-label')).toBe('passed');
    expect(await passed.innerText()).toContain('✓');
    expect(await passed.innerText()).toContain('The Secret Service keyring is reachable.');
    expect(await passed.innerText()).not.toContain('Fix:');

    expect(await failed.getByRole('img').getAttribute('aria-label')).toBe('failed');
    expect(await failed.innerText()).toContain('✗');
    expect(await failed.locator('.check-message').textContent()).toBe(`The login node answered: ${hostile}`);
    expect(await failed.innerText()).toContain('Fix: Check the host name in the SSH settings, then run the checks again.');

    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.getByRole('status').textContent()).toBe('1 of 2 checks failed.');
    expect(pageProblems).toEqual([]);

    await page.screenshot({ path: join(artifactsDir, 'doctor.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifactsDir, 'doctor-dark.png') });
    // The README shows the dark theme with this very page (hostile text as text): refreshed on request only.
    if (process.env['UPDATE_SCREENSHOTS'] === '1') copyFileSync(join(artifactsDir, 'doctor-dark.png'), join(root, 'docs', 'screenshots', 'doctor-dark.png'));
  });

  it('shows a passed check with a warning as ⚠ with its message and fix (never a plain ✓)', async () => {
    doctorResult = {
      ok: true,
      value: [
        checks[0]!,
        {
          id: 'slurm.accounting',
          title: 'SLURM accounting',
          ok: true,
          warning: true,
          message: `Accounting is off on this cluster (sacct answered: ${hostile}).`,
          fix: 'Ask the cluster admins to enable slurmdbd; until then peak memory is unknown.',
        },
      ],
    };
    await open();
    await page.getByRole('button', { name: 'Run checks' }).click();
    const rows = page.getByRole('list', { name: 'Check results' }).getByRole('listitem');
    await expect.poll(() => rows.count()).toBe(2);
    const warned = rows.nth(1);
    expect(await warned.getByRole('img').getAttribute('aria-label')).toBe('passed with a warning');
    expect(await warned.locator('.check-mark').textContent()).toBe('⚠');
    expect(await warned.innerText()).not.toContain('✓');
    expect(await warned.locator('.check-message').textContent()).toBe(`Accounting is off on this cluster (sacct answered: ${hostile}).`);
    expect(await warned.locator('.fix').textContent()).toBe('Fix: Ask the cluster admins to enable slurmdbd; until then peak memory is unknown.');
    expect(await rows.nth(0).getByRole('img').getAttribute('aria-label')).toBe('passed');
    expect(await page.getByRole('status').textContent()).toBe('All 2 checks passed. One has a warning.');
    expect(await page.locator('img').count()).toBe(0);
    expect(pageProblems).toEqual([]);
    await page.screenshot({ path: join(artifactsDir, 'doctor-warning.png') });
  });

  it('runs from the keyboard and shows a failed call with its fix', async () => {
    doctorResult = {
      ok: false,
      error: { code: 'KEYCHAIN_UNAVAILABLE', message: 'The keychain is locked.', fix: 'Unlock it, then run the checks again.' },
    };
    await open();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Run checks');
    await page.keyboard.press('Enter');

    await expect.poll(() => page.getByRole('status').textContent()).toBe('The checks could not run: The keychain is locked.');
    expect(await page.locator('.panel > .fix').textContent()).toBe('Unlock it, then run the checks again.');
    expect(await page.getByRole('button', { name: 'Run checks' }).isEnabled()).toBe(true);
    expect(pageProblems).toEqual([]);
  });
});
