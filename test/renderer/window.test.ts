/**
 * The whole window in Debian's Chromium against the built renderer (CSP in force), its
 * `window.hpc` bound to a REAL core in this process (window-harness.ts) that talks to the testbed
 * (real sshd, real SLURM) and the Slack emulator. One researcher's first session, in order:
 * the setup wizard (host from the SSH config, host key confirmed by fingerprint, partitions; Slack
 * tokens validated and checked live; commands only), the doctor all green, keyboard-only moves
 * between screens, a job submitted from the form the template's schema makes, watched to
 * COMPLETED with its chart and a log line that is HTML staying text, a job's state changes shown as
 * main tells of them (the fallback poll is made too long to help), monitors, the activity feed.
 * Then a Slack gateway joins: an approval the agent asks for in Slack is approved from Activity,
 * and a job's Slack report thread is opened from its page.
 * A screenshot of each main screen goes to test/artifacts/screenshots/ on every run (a test
 * artifact, gitignored); docs/screenshots/ is rewritten only with UPDATE_SCREENSHOTS=1.
 */
import fs from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createCore } from '../../main/core/index.js';
import type { Core } from '../../main/core/index.js';
import { jobsServiceFactory } from '../../main/core/jobs/jobs-runtime.js';
import { createLogger } from '../../main/core/log/logger.js';
import { slackApprover } from '../../main/core/agent/approvers.js';
import type { ApprovalDecision } from '../../main/core/agent/ports.js';
import { slackGatewayService } from '../../main/core/slack/service.js';
import { slackHub, slackThreads } from '../../main/core/slack/wiring.js';
import { webApi } from '@slack/bolt';
import type { Notification, SecretStore } from '../../main/core/ports.js';
import { Runtime } from '../../main/core/runtime/runtime.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { AgentStore } from '../../main/core/store/agent-store.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { makeHome } from '../helpers/temp-home.js';
import { ScriptedPrompt } from '../helpers/testbed-core.js';
import { launchChromium, watchedPage } from './browser.js';
import { serveDirectory } from './static-server.js';
import type { StaticServer } from './static-server.js';
import { bindWindow } from './window-harness.js';
import type { BoundWindow } from './window-harness.js';

const tb = inject('testbed');
const root = path.join(import.meta.dirname, '..', '..');
const rendererDir = path.join(root, 'out', 'renderer');
const artifactsDir = path.join(root, 'test', 'artifacts');
/** Every run's screenshots: a test artifact (test/artifacts is gitignored). */
const shotsDir = path.join(artifactsDir, 'screenshots');
/** The README's screenshots: rewritten only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean. */
const screenshotsDir = path.join(root, 'docs', 'screenshots');
const updateScreenshots = process.env['UPDATE_SCREENSHOTS'] === '1';
/** Who sits at the window in this test: approvals decided there are decided by this name. */
const WINDOW_USER = 'tester';
const HOSTILE = '<img src=x onerror=window.__pwned=1>';
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const REMOTE_DIR = `~/hpc-relay-ui-${RUN}`;
const FILLER_LINES = 3000;
/** The window's fallback poll in this test: ten minutes, so only change events keep its screens current. */
const FALLBACK_MS = 10 * 60_000;

/** The job the test submits through the form: ANSI colours, HTML-looking text, 3000 lines, metrics per epoch. */
const HOSTILE_PY = `import sys, time
H = ${JSON.stringify(HOSTILE)}
print("\\x1b[1;32mtrain.py\\x1b[0m starting " + H, flush=True)
for i in range(${FILLER_LINES}):
    print("batch %d \\x1b[2mloss ok\\x1b[0m" % i)
sys.stdout.flush()
for epoch in range(1, 6):
    time.sleep(1)
    print("epoch=%d train_loss=%.4f val_loss=%.4f val_acc=%.4f" % (epoch, 2.3 / epoch, 2.0 / epoch + 0.1, 0.3 + 0.1 * epoch), flush=True)
print("\\x1b[31m" + H + "\\x1b[0m", flush=True)
print("done", flush=True)
`;

class MemoryKeychain implements SecretStore {
  readonly values = new Map<string, string>();
  async get(account: string) {
    return this.values.get(account) ?? null;
  }
  async set(account: string, value: string) {
    this.values.set(account, value);
  }
  async delete(account: string) {
    return this.values.delete(account);
  }
}

let server: StaticServer;
let browser: Browser;
let page: Page;
let core: Core;
let runtime: Runtime;
/** The Slack gateway, started once the wizard has set Slack up (the last tests). */
let slackRuntime: Runtime | undefined;
let emu: SlackEmulator;
let bound: BoundWindow;
let knownHosts: string;
const pageProblems: string[] = [];
const trayNotes: Notification[] = [];

/** A screenshot of the window as a user sees it: from the top, no focus ring left from the test's typing. */
async function shot(name: string): Promise<void> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const file = path.join(shotsDir, `${name}.png`);
  await page.screenshot({ path: file });
  if (updateScreenshots) await copyFile(file, path.join(screenshotsDir, `${name}.png`));
}

const activeText = () => page.evaluate(() => document.activeElement?.textContent ?? null);
const activeTag = () => page.evaluate(() => document.activeElement?.tagName ?? null);

beforeAll(async () => {
  if (!fs.existsSync(path.join(rendererDir, 'index.html'))) {
    throw new Error('out/renderer/index.html is missing: build the renderer first with `npx electron-vite build` (npm run test:renderer does).');
  }
  await mkdir(shotsDir, { recursive: true });
  if (updateScreenshots) await mkdir(screenshotsDir, { recursive: true });

  // An SSH config with the testbed under an alias, and a known_hosts that does not know it yet.
  const home = makeHome('window');
  const sshDir = path.join(home, 'ssh');
  fs.mkdirSync(sshDir, { recursive: true });
  const sshConfig = path.join(sshDir, 'config');
  knownHosts = path.join(sshDir, 'known_hosts');
  fs.writeFileSync(sshConfig, `Host *\n  ServerAliveInterval 30\n\nHost hpc-testbed\n  HostName ${tb.host}\n  Port ${tb.port}\n  User ${tb.user}\n  IdentityFile ${tb.identityFile}\n`);
  fs.writeFileSync(knownHosts, '');

  emu = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp });
  const registry = new SecretRegistry();
  core = createCore({
    home,
    configStore: new FileConfigStore(home),
    keychain: new MemoryKeychain(),
    keychainError: null,
    env: {},
    registry,
    logger: createLogger({ file: path.join(home, 'logs', 'hpc-relay.log'), registry }),
    // Background connections never get a yes to an unknown host key: only the wizard's trust adds it.
    prompt: new ScriptedPrompt(() => null),
  });
  core.settings.set('cluster.sshConfigFile', sshConfig);
  core.settings.set('cluster.knownHostsFile', knownHosts);
  core.settings.set('slack.apiUrl', emu.apiUrl);
  // The app's job service (tick + events watcher + notify dispatcher), with a recording tray.
  runtime = new Runtime(core, [jobsServiceFactory({ channels: () => ({ tray: { notify: async (n) => void trayNotes.push(n) } }) })]);
  await runtime.start();

  server = await serveDirectory(rendererDir);
  browser = await launchChromium();
  page = await watchedPage(browser, { viewport: { width: 1100, height: 720 }, colorScheme: 'light' }, pageProblems);
  // The screens' fallback poll is made longer than any test here: what a screen shows without the
  // user acting on it must come from main's data:changed events, or the test fails.
  bound = await bindWindow(page, core, runtime, { windowUser: WINDOW_USER, refreshFallbackMs: FALLBACK_MS });
  await page.goto(server.url);
}, 120_000);

afterAll(async () => {
  bound?.dispose();
  await browser?.close();
  await server?.close();
  if (core?.settings.settings().cluster.host) {
    await core
      .cluster()
      .exec(['sh', '-c', 'rm -rf -- "$HOME/$1"', 'sh', REMOTE_DIR.slice(2)], { timeoutMs: 30_000 })
      .catch(() => undefined);
  }
  await slackRuntime?.stop();
  await runtime?.stop();
  await core?.close();
  await emu?.close();
}, 60_000);

describe('the window on a real core', () => {
  it('opens on setup the first time, and the cluster step tests the testbed stage by stage (host key confirmed by fingerprint, partitions shown)', async () => {
    await expect.poll(() => activeText()).toBe('Setup');
    const hostRadio = page.getByRole('radio', { name: /hpc-testbed/ });
    await hostRadio.check();
    await page.getByLabel('Remote working directory (optional)').fill(REMOTE_DIR);
    await page.getByRole('button', { name: 'Test and save' }).click();

    const stages = page.getByRole('list', { name: 'Connection test' });
    const hostKey = stages.locator('[data-stage="hostkey"]');
    await expect.poll(() => hostKey.getByRole('img').getAttribute('aria-label'), { timeout: 30_000 }).toBe('needs your decision');
    expect(await stages.locator('[data-stage="dns"]').getByRole('img').getAttribute('aria-label')).toBe('passed');
    expect(await stages.locator('[data-stage="tcp"] .check-message').textContent()).toMatch(/accepts connections .*SSH-2\.0-OpenSSH/);
    const fingerprint = (await hostKey.locator('code').textContent()) ?? '';
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // Not trusted until the user says so, and not saved either: nothing connects to it in the background yet.
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe('');
    expect(core.settings.settings().cluster.host).toBeUndefined();
    expect(runtime.running()).toEqual([]);
    await hostKey.getByRole('button', { name: 'Trust this host key' }).click();

    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 60_000 }).toBe('The cluster is ready.');
    for (const stage of ['dns', 'tcp', 'hostkey', 'auth', 'slurm', 'remoteDir', 'tools']) {
      expect(await stages.locator(`[data-stage="${stage}"]`).getByRole('img').getAttribute('aria-label'), stage).toBe('passed');
    }
    expect(fs.readFileSync(knownHosts, 'utf8')).toMatch(new RegExp(`^\\[${tb.host.replace(/\./g, '\\.')}\\]:${tb.port} ssh-`));
    const partitions = await stages.getByRole('list', { name: 'Partitions' }).getByRole('listitem').allTextContents();
    expect(partitions.map((p) => p.split(' ')[0])).toEqual(tb.partitions);
    expect(await stages.locator('[data-stage="auth"] .check-message').textContent()).toBe(`Logged in to ${tb.host}:${tb.port} as ${tb.user}.`);
    expect(await stages.getByRole('list', { name: 'Tools' }).textContent()).toContain('✓ sbatch');
    expect(core.settings.settings().cluster.host).toBe('hpc-testbed');
    // Saved: the app's job service runs now (the runtime heard the change).
    await expect.poll(() => runtime.running()).toEqual(['jobs']);
    await shot('setup');
  }, 120_000);

  it('the Slack step refuses a wrong token inline, stores the right ones, checks them live against Slack and sends a test message; the model step can be skipped', async () => {
    await page.getByRole('button', { name: 'Next: Slack' }).click();
    await page.getByLabel(/^Bot token/).fill('xoxp-not-a-bot-token');
    await page.getByLabel(/^App-level token/).fill(TEST_SECRETS.slackApp);
    await page.getByLabel('Allowed Slack users').fill(emu.defaultUserId);
    await page.getByLabel(/^Home channel/).fill('C0GENERAL01');
    await page.getByRole('button', { name: 'Save and check' }).click();

    const botField = page.getByLabel(/^Bot token/);
    await expect.poll(() => botField.getAttribute('aria-invalid')).toBe('true');
    const errId = (await botField.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${errId}"]`).textContent()).toContain('must start with "xoxb-"');

    await botField.fill(TEST_SECRETS.slackBot);
    await page.getByRole('button', { name: 'Send a test message' }).click();
    const checks = page.getByRole('list', { name: 'Slack checks' });
    await expect.poll(() => checks.getByRole('listitem').count(), { timeout: 30_000 }).toBe(4);
    expect(await checks.getByRole('img', { name: 'passed' }).count()).toBe(4);
    expect(await checks.locator('[data-check-id="slack.events"] .check-message').textContent()).toContain('came back as an event');
    expect(core.settings.settings().slack).toMatchObject({ enabled: true, allowedUsers: [emu.defaultUserId], homeChannel: 'C0GENERAL01' });
    expect(await core.secrets.get('slack-bot-token')).toBe(TEST_SECRETS.slackBot);
    // Secrets go in; nothing sends them back out to the page.
    expect(await page.content()).not.toContain(TEST_SECRETS.slackBot);

    // Main is slow to send the settings the step starts from: what the user types meanwhile stays
    // (the stored budget, 20, arriving later used to overwrite or join it: "2015").
    const release = bound.hold('settings:get');
    await page.getByRole('button', { name: 'Next: Model' }).click();
    // The agent without a key: the check says so (no model API is asked without one).
    await page.getByLabel('Monthly budget (USD)').fill('15');
    release();
    // The held answer arrives and is applied (the step also fills the model it stores).
    await expect.poll(() => page.getByLabel('Model', { exact: true }).inputValue()).not.toBe('');
    expect(await page.getByLabel('Monthly budget (USD)').inputValue()).toBe('15');
    await page.getByRole('button', { name: 'Save and check the key' }).click();
    const modelCheck = page.getByRole('list', { name: 'Model check' });
    await expect.poll(() => modelCheck.locator('.check-message').textContent()).toBe('No Anthropic API key is set.');
    expect(await modelCheck.getByRole('img').getAttribute('aria-label')).toBe('failed');
    expect(core.settings.settings().llm.monthlyBudgetUsd).toBe(15);
    await page.getByRole('radio', { name: /Skip: commands only/ }).check();
    await page.getByRole('button', { name: 'Save: commands only' }).click();
    await expect.poll(() => activeText()).toBe('Jobs');
    expect(core.settings.settings().llm.enabled).toBe(false);
  }, 90_000);

  it('the doctor shows every check green against the testbed and the Slack emulator', async () => {
    await page.keyboard.press('Alt+2');
    await expect.poll(() => activeText()).toBe('Doctor');
    await page.getByRole('button', { name: 'Run checks' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 60_000 }).toMatch(/^All \d+ checks passed\.$/);
    const ids = await page.getByRole('list', { name: 'Check results' }).getByRole('listitem').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-check-id')));
    expect(ids).toEqual(expect.arrayContaining(['settings.valid', 'secrets.keychain', 'secrets.present', 'ssh.connect', 'slurm.sinfo', 'cluster.remoteDir', 'cluster.clock', 'slack.auth', 'slack.scopes', 'slack.socket', 'llm.key']));
    expect(await page.getByRole('img', { name: 'failed' }).count()).toBe(0);
    await shot('doctor');
  }, 90_000);

  it('moves between screens with the keyboard only', async () => {
    const names = ['Setup', 'Doctor', 'Jobs', 'Monitors', 'Activity', 'Settings'];
    for (const [i, name] of names.entries()) {
      await page.keyboard.press(`Alt+${i + 1}`);
      await expect.poll(() => activeText()).toBe(name);
      expect(await activeTag()).toBe('H2');
    }
    // From the screen's heading, back into the menu, two items up, and Enter.
    await page.keyboard.press('Alt+3');
    await expect.poll(() => activeText()).toBe('Jobs');
    await page.keyboard.press('Shift+Tab');
    expect(await activeText()).toBe('SettingsAlt+6');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await activeText()).toBe('MonitorsAlt+4');
    await page.keyboard.press('Enter');
    await expect.poll(() => activeText()).toBe('Monitors');
    expect(await page.getByRole('button', { name: /^Monitors/ }).getAttribute('aria-current')).toBe('page');
    // Tab goes on inside the screen.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);
  });

  /** The job whose page is open, once it has ended: the events watcher notices, the poll tick is the fallback. */
  async function watchToEnd(): Promise<string> {
    const heading = page.getByRole('heading', { level: 2, name: /^Job \d+/ });
    await heading.waitFor({ timeout: 60_000 });
    const jobId = /^Job (\d+)/.exec((await heading.textContent()) ?? '')?.[1] ?? '';
    expect(jobId).toMatch(/^\d+$/);
    const deadline = Date.now() + 150_000;
    let ticked = Date.now();
    while (!core.jobs().store.get(jobId)?.final) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not end: ${core.jobs().store.get(jobId)?.state}`);
      if (Date.now() - ticked > 20_000) {
        ticked = Date.now();
        await core.jobs().refresh();
      }
      await page.waitForTimeout(500);
    }
    // The page shows it from the store's next read.
    const state = core.jobs().store.get(jobId)?.state ?? '';
    await expect.poll(() => page.locator('.panel-header .badge').textContent(), { timeout: 10_000 }).toBe(state);
    return jobId;
  }

  it('submits a job from the form the template schema makes, watches it reach COMPLETED, charts its metrics and shows HTML-looking log lines as text', async () => {
    const dir = await core.cluster().remoteDir();
    const script = `${dir}/train.py`;
    await core.cluster().writeFile(script, HOSTILE_PY);

    await page.keyboard.press('Alt+3');
    await expect.poll(() => activeText()).toBe('Jobs');
    await page.getByRole('button', { name: 'Submit a job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Submit a job' });
    await dialog.getByLabel('Template').selectOption('python');

    // Fields come from the schema: a required path, an int with its range, help text, defaults.
    const scriptField = dialog.getByLabel('script (required)');
    const cpus = dialog.getByLabel('cpus', { exact: true });
    expect(await cpus.inputValue()).toBe('1');
    expect(await dialog.getByText('Expects a whole number from 1 to 256.').count()).toBe(1);
    await cpus.fill('0');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect.poll(() => scriptField.getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.locator('.field-error').allTextContents()).toEqual([
      'Parameter "cpus" must be a whole number from 1 to 256; got "0".',
      'Parameter "script" is required: the Python script to run.',
    ]);
    expect(bound.calls.filter((c) => c === 'jobs:submit')).toEqual([]);

    await cpus.fill('1');
    await scriptField.fill(script);
    await dialog.getByLabel('partition', { exact: true }).fill(tb.defaultPartition);
    await dialog.getByRole('button', { name: 'Submit' }).click();

    // The testbed is shared: another suite's clean-up may scancel every job of the cluster user.
    // Such a job (CANCELLED, which this test never does) is submitted again from its page once.
    let jobId = await watchToEnd();
    if (core.jobs().store.get(jobId)?.state.startsWith('CANCELLED')) {
      const first = jobId;
      await page.getByRole('region', { name: 'Resubmit' }).getByRole('button', { name: 'Resubmit' }).click();
      await expect.poll(() => activeText(), { timeout: 30_000 }).not.toMatch(new RegExp(`^Job ${first}\\b`));
      jobId = await watchToEnd();
    }
    expect(core.jobs().store.get(jobId)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });

    // The chart, from the epoch lines of the log.
    const chart = page.locator('figure[data-series="val_acc"]');
    await chart.waitFor({ timeout: 30_000 });
    expect(await chart.locator('path.series-line').getAttribute('d')).toMatch(/^M[\d. ]+(L[\d. ]+){4}$/);
    expect(await chart.locator('svg title').textContent()).toBe('val_acc: 5 points from step 1 to 5, between 0.4 and 0.8, last 0.8.');

    // The log: the last lines are shown (following the end), as text, ANSI stripped.
    const log = page.getByRole('log', { name: 'Output' });
    await expect.poll(() => log.locator('.log-line').last().textContent(), { timeout: 20_000 }).toBe('done');
    const lines = log.locator('.log-line');
    expect(await lines.nth((await lines.count()) - 2).textContent()).toBe(HOSTILE);
    const total = Number(/^([\d,]+) lines/.exec((await page.getByText(/^\d[\d,]* lines/).textContent()) ?? '')?.[1]?.replace(/,/g, ''));
    expect(total).toBeGreaterThan(FILLER_LINES);
    // Virtualized: a few dozen rows in the DOM for over 3000 lines.
    expect(await lines.count()).toBeLessThan(80);
    await shot('job-detail');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(shotsDir, 'job-detail-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    // The first line, after scrolling to the top.
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await expect.poll(() => log.locator('.log-line').filter({ hasText: 'train.py starting' }).textContent()).toBe(`train.py starting ${HOSTILE}`);
    expect(await log.locator('.log-line').first().textContent()).toMatch(/^hpc-relay: job \d+ on /);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.body.innerHTML.includes('\u001b'))).toBe(false);

    // The list: state, elapsed, partition, key metric; filters by state and text.
    await page.getByRole('button', { name: '← All jobs' }).click();
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual([jobId, 'hpc-relay-python', 'COMPLETED', expect.stringMatching(/^\d+s$|^\d+m \d+s$/), tb.defaultPartition, 'val_acc 0.8', tb.nodeName]);
    await page.getByLabel('State', { exact: true }).selectOption('failed');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('State', { exact: true }).selectOption('done');
    await page.getByLabel('Search', { exact: true }).fill('python');
    await expect.poll(() => row.count()).toBe(1);
    await page.getByLabel('State', { exact: true }).selectOption('all');
    await page.getByLabel('Search', { exact: true }).fill('');
    expect(trayNotes.map((n) => n.title)).toContain(`✓ hpc-relay-python (${jobId}) COMPLETED`);
    expect(pageProblems).toEqual([]);
  }, 240_000);

  it('opens a job when main asks (a notification click), cancels it after a confirm, and resubmits it with edited memory and partition', async () => {
    const dir = await core.cluster().remoteDir();
    await core.cluster().writeFile(`${dir}/sleepy.py`, 'import time\nprint("sleeping", flush=True)\ntime.sleep(600)\n');
    const sub = await bound.handlers['jobs:submit']('python', { script: `${dir}/sleepy.py`, cpus: 1, mem: '512M', time: '00:05:00', partition: tb.defaultPartition });
    bound.navigator.go({ view: 'job', jobId: sub.jobId });
    await expect.poll(() => activeText()).toMatch(new RegExp(`^Job ${sub.jobId}`));

    await page.getByRole('button', { name: 'Cancel job…' }).click();
    const confirm = page.getByRole('dialog', { name: `Cancel job ${sub.jobId}?` });
    // Escape keeps it running.
    await page.keyboard.press('Escape');
    await expect.poll(() => confirm.count()).toBe(0);
    expect(bound.calls).not.toContain('jobs:cancel');
    await page.getByRole('button', { name: 'Cancel job…' }).click();
    await confirm.getByRole('button', { name: 'Cancel the job' }).click();
    const badge = page.locator('.panel-header .badge');
    await expect.poll(() => badge.textContent(), { timeout: 60_000 }).toMatch(/^CANCELLED/);
    expect(await page.getByRole('button', { name: 'Cancel job…' }).count()).toBe(0);

    const resubmit = page.getByRole('region', { name: 'Resubmit' });
    expect(await resubmit.getByLabel('Memory').inputValue()).toBe('512M');
    await resubmit.getByLabel('Memory').fill('1G');
    await resubmit.getByLabel('Partition').fill('gpu_dev');
    await resubmit.getByRole('button', { name: 'Resubmit' }).click();
    await expect.poll(() => activeText(), { timeout: 30_000 }).toMatch(/^Job (\d+)/);
    const newId = /^Job (\d+)/.exec((await activeText()) ?? '')?.[1] ?? '';
    expect(newId).not.toBe(sub.jobId);
    expect(core.jobs().store.get(newId)).toMatchObject({ reqMemBytes: 2 ** 30, partition: 'gpu_dev' });
    expect(core.jobs().store.submission(core.jobs().store.get(newId)?.submissionId ?? '')?.resubmitOf).toBe(sub.jobId);
    await core.jobs().cancel(newId);

    await page.keyboard.press('Alt+3');
    await expect.poll(() => page.locator(`tr[data-job-id="${newId}"] .badge`).textContent(), { timeout: 30_000 }).toMatch(/^CANCELLED/);
    await shot('jobs');
    expect(pageProblems).toEqual([]);
  }, 120_000);

  it('jobs: a job submitted elsewhere and its state changes show in the open list as main tells of them (data:changed), not at the fallback poll', async () => {
    expect((await bound.handlers['app:info']()).refreshFallbackMs).toBe(FALLBACK_MS);
    await page.keyboard.press('Alt+3');
    await expect.poll(() => activeText()).toBe('Jobs');
    const dir = await core.cluster().remoteDir();
    await core.cluster().writeFile(`${dir}/sleepy.py`, 'import time\nprint("sleeping", flush=True)\ntime.sleep(600)\n');
    // As from Slack or the CLI: nothing on the page asks for it, and the list was read before it existed.
    const sub = await bound.handlers['jobs:submit']('python', { script: `${dir}/sleepy.py`, cpus: 1, mem: '512M', time: '00:05:00', partition: tb.defaultPartition });
    const row = page.locator(`tr[data-job-id="${sub.jobId}"]`);
    const stateOf = () => core.jobs().store.get(sub.jobId)?.state ?? '';
    const submitted = stateOf();

    // The scheduler checks (the job service's tick) notice it start: a transition, and the list shows it.
    const deadline = Date.now() + 90_000;
    while (stateOf() === submitted) {
      if (Date.now() > deadline) throw new Error(`job ${sub.jobId} stayed ${submitted}`);
      await core.jobs().refresh();
      if (stateOf() === submitted) await page.waitForTimeout(1000);
    }
    await expect.poll(() => row.locator('.badge').textContent().catch(() => null), { timeout: 10_000 }).toBe(stateOf());

    // Cancelled outside the window: the row follows within seconds.
    await core.jobs().cancel(sub.jobId);
    expect(stateOf()).toMatch(/^CANCELLED/);
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 10_000 }).toBe(stateOf());
    // The Activity feed, opened now, has the change; the page logged no problem.
    await page.keyboard.press('Alt+5');
    await expect.poll(() => page.getByRole('list', { name: 'Activity' }).locator('.feed-job').filter({ hasText: sub.jobId }).filter({ hasText: 'CANCELLED' }).count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(pageProblems).toEqual([]);
  }, 150_000);

  it('monitors: creates one from schedule text, kind and target, shows its next run, pauses, resumes, removes, and shows the core’s sentence for a bad schedule', async () => {
    await page.keyboard.press('Alt+4');
    await expect.poll(() => activeText()).toBe('Monitors');
    const create = async (schedule: string, kind: string, to: string, name: string) => {
      await page.getByLabel('Schedule', { exact: true }).fill(schedule);
      await page.getByLabel('Kind', { exact: true }).selectOption(kind);
      await page.getByLabel('Goes to', { exact: true }).fill(to);
      await page.getByLabel('Name (optional)').fill(name);
      await page.getByRole('button', { name: 'Create monitor' }).click();
    };
    await create('every fortnight or so', 'digest', 'slack', 'Bad');
    const alert = page.locator('.subsection [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/every fortnight or so/);
    expect(await page.getByLabel('Schedule', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await create('every 30m', 'digest', 'slack', 'Queue digest');
    const rows = page.getByRole('table', { name: 'Monitors' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await create('weekdays at 18:00', 'heartbeat', 'tray', 'Evening heartbeat');
    await expect.poll(() => rows.count()).toBe(2);
    const digest = rows.filter({ hasText: 'Queue digest' });
    expect(await digest.textContent()).toContain('every 30 minutes');
    expect(await digest.locator('td').nth(3).textContent()).toMatch(/\(in \d+ (s|min)\)/);
    expect(await digest.locator('td').nth(4).textContent()).toBe('not run yet');

    await digest.getByRole('button', { name: 'Pause Queue digest' }).click();
    await expect.poll(() => digest.locator('td').nth(3).textContent()).toBe('paused');
    await digest.getByRole('button', { name: 'Resume Queue digest' }).click();
    await expect.poll(() => digest.locator('td').nth(3).textContent()).toMatch(/in \d+/);

    await create('hourly', 'digest', 'slack', 'Temporary');
    await expect.poll(() => rows.count()).toBe(3);
    await rows.filter({ hasText: 'Temporary' }).getByRole('button', { name: 'Remove Temporary' }).click();
    const confirm = page.getByRole('dialog', { name: /Remove “Temporary”/ });
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel('Schedule', { exact: true }).fill('');
    await page.getByLabel('Name (optional)').fill('');
    expect((await bound.handlers['monitors:list']()).map((m) => m.name)).toEqual(['Queue digest', 'Evening heartbeat']);
    await shot('monitors');
  }, 60_000);

  it('activity: notifications, agent actions (HTML in a command stays text) and job state changes, newest first', async () => {
    // Two agent actions in the audit log, as the agent writes them (no model is set up here).
    const audit = new AgentStore(core.db(), core.registry);
    const now = Date.now();
    audit.audit({ at: now - 60_000, conversationId: 'slack:C0GENERAL01:1', loopId: null, tool: 'submit_job', input: '{"template":"cnn_train","params":{"epochs":2,"lr":0.01}}', output: 'Submitted job 4242.', decision: 'approved', approvedBy: emu.defaultUserId, isError: false });
    audit.audit({ at: now - 30_000, conversationId: 'slack:C0GENERAL01:1', loopId: null, tool: 'run_command', input: `{"command":"rm -rf ~/runs ${HOSTILE}"}`, output: 'Denied.', decision: 'denied', approvedBy: emu.defaultUserId, isError: false });

    await page.keyboard.press('Alt+5');
    await expect.poll(() => activeText()).toBe('Activity');
    const feed = page.getByRole('list', { name: 'Activity' });
    await expect.poll(() => feed.locator('.feed-agent').count(), { timeout: 10_000 }).toBe(2);
    expect(await feed.locator('.feed-agent').first().locator('pre').first().textContent()).toBe(`{"command":"rm -rf ~/runs ${HOSTILE}"}`);
    expect(await feed.locator('.feed-notification').count()).toBeGreaterThanOrEqual(1);
    expect(await feed.locator('.feed-notification').first().textContent()).toMatch(/Desktop|Slack/);
    expect(await feed.locator('.feed-job').filter({ hasText: 'COMPLETED' }).count()).toBeGreaterThanOrEqual(1);
    const times = await feed.locator('time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();

    await page.getByLabel('Show', { exact: true }).selectOption('agent');
    await expect.poll(() => feed.getByRole('listitem').count()).toBe(2);
    await page.getByLabel('Show', { exact: true }).selectOption('all');
    expect(pageProblems).toEqual([]);
  }, 60_000);

  /** The Slack gateway as the app runs it, on the settings the wizard saved (tokens, emulator, allowed user). */
  async function startSlack() {
    if (!slackRuntime) {
      slackRuntime = new Runtime(core, [slackGatewayService]);
      expect(await slackRuntime.start()).toEqual(['slack-gateway']);
    }
    const gateway = slackHub(core).gateway;
    if (!gateway) throw new Error('the Slack gateway did not start');
    await expect.poll(() => gateway.state, { timeout: 20_000 }).toBe('connected');
    return gateway;
  }

  it('activity: an approval the agent asks for in Slack waits at the top (its text as text), and Approve there resolves it once, for the window user, replacing the Slack buttons', async () => {
    const gateway = await startSlack();
    const dm = emu.dmChannelFor(emu.defaultUserId);
    // What the agent does for a change it may not make alone: the Slack approver over the conversation's io.
    const approver = slackApprover(gateway.conversation(dm, emu.defaultUserId));
    let decision: ApprovalDecision | undefined;
    const asked = approver.request({ summary: `Run \`rm -rf ~/runs\` on the login node ${HOSTILE}`, detail: `rm -rf ~/runs ${HOSTILE}`, reason: 'it may change something: rm is not read-only', tool: 'run_command', conversationId: `slack:${dm}` });
    void asked.then((d) => { decision = d; });
    const post = await emu.waitForCall('chat.postMessage', (c) => String(c.params.text).startsWith('Approval needed'));

    await page.keyboard.press('Alt+5');
    await expect.poll(() => activeText()).toBe('Activity');
    const pending = page.getByRole('list', { name: 'Pending approvals' });
    await expect.poll(() => pending.getByRole('listitem').count(), { timeout: 10_000 }).toBe(1);
    const row = pending.getByRole('listitem');
    expect(await row.locator('.approval-summary').textContent()).toBe(`Run \`rm -rf ~/runs\` on the login node ${HOSTILE}`);
    expect(await row.locator('pre').textContent()).toBe(`rm -rf ~/runs ${HOSTILE}\n\nAsked by the agent; needs approval because it may change something: rm is not read-only.`);
    expect(await row.textContent()).toContain(`Asked by ${emu.defaultUserId}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    // Labelled for screen readers: each button is described by the action it decides.
    const approve = row.getByRole('button', { name: 'Approve' });
    const describedBy = (await approve.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe(`Run \`rm -rf ~/runs\` on the login node ${HOSTILE}`);
    expect(await row.getByRole('button', { name: 'Deny' }).getAttribute('aria-describedby')).toBe(describedBy);
    expect(decision).toBeUndefined();
    await shot('activity');

    // From the keyboard: focus Approve, Enter.
    await approve.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => decision, { timeout: 10_000 }).toEqual({ approved: true, by: `window:${WINDOW_USER}` });
    await expect.poll(() => pending.count()).toBe(0);
    await expect.poll(() => page.locator('.approvals [role="status"]').textContent()).toBe(`Approved in the HPC Relay window by ${WINDOW_USER}: Run \`rm -rf ~/runs\` on the login node ${HOSTILE}.`);
    expect(bound.calls.filter((c) => c === 'approvals:decide')).toHaveLength(1);
    // In Slack, the buttons gave way to the outcome, as a click there does.
    const update = await emu.waitForCall('chat.update');
    expect(update.params).toMatchObject({ channel: dm, ts: String(post.response.ts), text: `Approved in the HPC Relay window by ${WINDOW_USER}: Run \`rm -rf ~/runs\` on the login node ${HOSTILE.replace(/</g, '&lt;').replace(/>/g, '&gt;')}.` });
    // Decided once: the core refuses it again, and the audit log has the window's decision.
    expect(await bound.handlers['approvals:list']()).toEqual([]);
    const feed = page.getByRole('list', { name: 'Activity' });
    await expect.poll(() => feed.locator('.feed-agent').filter({ hasText: 'Approval' }).count(), { timeout: 10_000 }).toBe(1);
    expect(await feed.locator('.feed-agent').filter({ hasText: 'Approval' }).textContent()).toContain(`by window:${WINDOW_USER}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();

    // With Activity open, main tells the page (data:changed; its fallback poll is minutes away): an
    // approval asked now appears, and leaves when an allowed user decides it in Slack.
    let second: ApprovalDecision | undefined;
    void approver.request({ summary: 'Cancel job 99', detail: 'scancel 99', reason: 'cancelling changes the cluster', tool: 'cancel_job', conversationId: `slack:${dm}` }).then((d) => { second = d; });
    await expect.poll(() => pending.getByRole('listitem').count(), { timeout: 10_000 }).toBe(1);
    expect(await pending.locator('.approval-summary').textContent()).toBe('Cancel job 99');
    const id = (await pending.getByRole('listitem').getAttribute('data-approval-id')) ?? '';
    expect(await gateway.approvals.decide(id, false, emu.defaultUserId)).toMatchObject({ kind: 'done', approved: false });
    await expect.poll(() => pending.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => second).toEqual({ approved: false, by: emu.defaultUserId, reason: 'denied' });
    expect(pageProblems).toEqual([]);
  }, 60_000);

  it('job detail: a job with a Slack report thread opens it (the link asked of Slack, opened only as an https slack.com link); one without says why not', async () => {
    await startSlack();
    const jobs = core.jobs().store.list();
    const reported = jobs.find((j) => j.state === 'COMPLETED');
    const unreported = jobs.find((j) => j !== reported);
    if (!reported || !unreported) throw new Error('the earlier tests left no jobs');
    // The job's report, as the reporter posts it in the home channel, and its thread remembered.
    const bot = new webApi.WebClient(TEST_SECRETS.slackBot, { slackApiUrl: emu.apiUrl });
    const report = await bot.chat.postMessage({ channel: 'C0GENERAL01', text: `Job ${reported.jobKey} COMPLETED` });
    slackThreads(core).setJobThread(reported.jobKey, { channel: 'C0GENERAL01', ts: String(report.ts) });

    bound.navigator.go({ view: 'job', jobId: unreported.jobKey });
    await expect.poll(() => activeText()).toMatch(new RegExp(`^Job ${unreported.jobKey}`));
    const none = page.getByRole('button', { name: 'Open the Slack thread' });
    await expect.poll(() => none.isDisabled()).toBe(true);
    const reason = (await none.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${reason}"]`).textContent()).toMatch(/No Slack thread yet: a report is posted there when the job ends, while Slack is on\./);

    bound.navigator.go({ view: 'job', jobId: reported.jobKey });
    await expect.poll(() => activeText()).toMatch(new RegExp(`^Job ${reported.jobKey}`));
    const open = page.getByRole('button', { name: 'Open the Slack thread' });
    await expect.poll(() => open.isEnabled()).toBe(true);
    await open.click();
    const asked = await emu.waitForCall('chat.getPermalink');
    expect(asked.params).toMatchObject({ channel: 'C0GENERAL01', message_ts: String(report.ts) });
    expect(asked.token).toBe(TEST_SECRETS.slackBot);
    const permalink = `https://${emu.teamDomain}.slack.com/archives/C0GENERAL01/p${String(report.ts).replace('.', '')}`;
    await expect.poll(() => bound.opened).toEqual([permalink]);
    expect(bound.failures.filter((f) => f.channel === 'jobs:openSlackThread')).toEqual([]);
    expect(pageProblems).toEqual([]);
  }, 60_000);
});
