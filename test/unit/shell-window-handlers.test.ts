/**
 * The app window's channels over a real core (settings file in a temp home, an in-memory
 * keychain): values validated by the core, secrets never echoed, changes handed to the runtime.
 */
import { describe, expect, it } from 'vitest';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createCore } from '../../main/core/index.js';
import type { Core } from '../../main/core/index.js';
import { silentLogger } from '../../main/core/log/logger.js';
import type { PromptUser, SecretStore } from '../../main/core/ports.js';
import type { Runtime } from '../../main/core/runtime/runtime.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { isRelayError } from '../../main/core/errors.js';
import { notificationsCheck } from '../../main/app/notify-check.js';
import { createNavigator } from '../../main/app/navigator.js';
import { windowHandlers } from '../../main/ipc/window-handlers.js';
import { ApprovalBroker } from '../../main/core/slack/approvals.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { slackHub, slackThreads } from '../../main/core/slack/wiring.js';
import { makeHome } from '../helpers/temp-home.js';

class MemoryKeychain implements SecretStore {
  readonly values = new Map<string, string>();
  async get(account: string) { return this.values.get(account) ?? null; }
  async set(account: string, value: string) { this.values.set(account, value); }
  async delete(account: string) { return this.values.delete(account); }
}

const noPrompt: PromptUser = { ask: async () => null };

function setup() {
  const keychain = new MemoryKeychain();
  const core: Core = createCore({
    home: makeHome('window-handlers'),
    configStore: new FileConfigStore(makeHome('window-handlers')),
    keychain,
    keychainError: null,
    env: {},
    registry: new SecretRegistry(),
    logger: silentLogger,
    prompt: noPrompt,
  });
  const changes: string[] = [];
  const opened: string[] = [];
  const runtime = { configChanged: async (key: string) => { changes.push(key); return []; } } as unknown as Runtime;
  const handlers = windowHandlers({
    services: async () => ({ core, runtime }),
    appInfo: () => ({ version: '0.1.0', platform: 'linux' }),
    status: () => { throw new Error('not used'); },
    navigator: createNavigator({ showWindow: () => undefined, send: () => undefined }),
    openExternal: async (url) => void opened.push(url),
    windowUser: () => 'ada',
  });
  return { core, keychain, handlers, changes, opened };
}

async function codeOf(p: Promise<unknown> | unknown): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return isRelayError(e) ? e.code : String(e);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('settings channels', () => {
  it('lists every setting with its value, whether it is set, and the words for it', async () => {
    const { handlers } = setup();
    const view = await handlers['settings:get']();
    const poll = view.entries.find((e) => e.key === 'cluster.pollSeconds');
    expect(poll).toEqual({ key: 'cluster.pollSeconds', value: 60, isSet: false, description: expect.stringMatching(/scheduler/), expected: 'a whole number of seconds from 30 to 3600' });
    expect(view.entries.find((e) => e.key === 'cluster.host')).toMatchObject({ value: null, isSet: false });
    expect(view.problems).toEqual([]);
  });

  it('sets through the core, which refuses wrong values and unknown keys', async () => {
    const { handlers, changes } = setup();
    await expect(handlers['settings:set']('cluster.pollSeconds', 120)).resolves.toMatchObject({ value: 120, isSet: true });
    expect(await codeOf(handlers['settings:set']('cluster.pollSeconds', 5))).toBe('CONFIG_INVALID_VALUE');
    expect(await codeOf(handlers['settings:set']('cluster.hots', 'hpc'))).toBe('CONFIG_UNKNOWN_KEY');
    expect(await codeOf(handlers['settings:unset']('nope'))).toBe('CONFIG_UNKNOWN_KEY');
    await expect(handlers['settings:unset']('cluster.pollSeconds')).resolves.toMatchObject({ value: 60, isSet: false });
    await settle();
    // Only accepted changes reach the runtime.
    expect(changes).toEqual(['cluster.pollSeconds', 'cluster.pollSeconds']);
  });
});

describe('secrets channels', () => {
  it('stores a valid token in the keychain and answers with status only', async () => {
    const { handlers, keychain, changes } = setup();
    const status = await handlers['secrets:set']('slack-bot-token', 'xoxb-123-456');
    expect(keychain.values.get('slack-bot-token')).toBe('xoxb-123-456');
    expect(status.find((s) => s.name === 'slack-bot-token')).toEqual({ name: 'slack-bot-token', label: 'Slack bot token', source: 'keychain', detail: null });
    expect(JSON.stringify(status)).not.toContain('xoxb-123-456');
    await settle();
    expect(changes).toEqual(['secret:slack-bot-token']);
  });

  it('refuses a malformed token or an unknown name, storing nothing', async () => {
    const { handlers, keychain } = setup();
    expect(await codeOf(handlers['secrets:set']('slack-bot-token', 'xapp-wrong-kind'))).toBe('SECRET_INVALID_FORMAT');
    expect(await codeOf(handlers['secrets:set']('aws-key', 'AKIA'))).toBe('SECRET_UNKNOWN_NAME');
    expect(keychain.values.size).toBe(0);
  });

  it('deletes', async () => {
    const { handlers } = setup();
    await handlers['secrets:set']('anthropic-api-key', 'sk-ant-1');
    const status = await handlers['secrets:delete']('anthropic-api-key');
    expect(status.find((s) => s.name === 'anthropic-api-key')?.source).toBe('unset');
  });
});

describe('cluster channels', () => {
  it('says the cluster is not configured, with the fix', async () => {
    const { handlers } = setup();
    expect(await codeOf(handlers['cluster:partitions']())).toBe('SSH_NOT_CONFIGURED');
  });
});

describe('approval channels', () => {
  it('lists the running gateway’s pending approvals and decides one as the window user: the asker sees approved, the audit log and the activity feed show it, a second decision is refused', async () => {
    const { core, handlers } = setup();
    const broker = new ApprovalBroker();
    const shown: string[] = [];
    slackHub(core).attach({ approvals: broker, showApprovalOutcome: async (_m: unknown, text: string) => void shown.push(text) } as unknown as SlackGateway);
    const a = broker.open({ summary: 'Cancel job 7 <img src=x onerror=alert(1)>', detail: 'scancel 7', requestedBy: 'U0HUMAN001' });
    broker.placed(a.id, { channel: 'D0DM', ts: '1.000100' });
    expect(await handlers['approvals:list']()).toEqual([{ id: a.id, summary: 'Cancel job 7 <img src=x onerror=alert(1)>', detail: 'scancel 7', requestedBy: 'U0HUMAN001', expiresAt: expect.any(Number) }]);

    await expect(handlers['approvals:decide'](a.id, true)).resolves.toEqual({ approved: true, text: 'Approved in the HPC Relay window by ada: Cancel job 7 <img src=x onerror=alert(1)>.' });
    expect(await a.outcome).toEqual({ approved: true, by: 'window:ada' });
    expect(await handlers['approvals:list']()).toEqual([]);
    expect(shown).toEqual(['Approved in the HPC Relay window by ada: Cancel job 7 &lt;img src=x onerror=alert(1)&gt;.']);
    expect(await codeOf(handlers['approvals:decide'](a.id, false))).toBe('APPROVAL_NOT_PENDING');
    expect(await codeOf(handlers['approvals:decide']('A'.repeat(22), true))).toBe('APPROVAL_NOT_PENDING');
    const feed = await handlers['activity:list']();
    expect(feed.filter((i) => i.kind === 'agent')).toEqual([expect.objectContaining({ tool: 'approval', decision: 'approved', approvedBy: 'window:ada', input: 'Cancel job 7 <img src=x onerror=alert(1)>\nscancel 7' })]);
  });

  it('with no Slack gateway running, nothing is pending and a decision is refused with the reason', async () => {
    const { handlers } = setup();
    expect(await handlers['approvals:list']()).toEqual([]);
    expect(await codeOf(handlers['approvals:decide']('A'.repeat(22), true))).toBe('APPROVAL_NOT_PENDING');
  });
});

describe('jobs:openSlackThread', () => {
  function withJob() {
    const s = setup();
    s.core.jobs().store.observeQueue([{ key: '4242', baseId: '4242', arrayTask: null, name: 'train', state: 'RUNNING', reason: 'None', elapsedSec: 5, timeLimitSec: 600, partition: 'debug', nodes: 1 }], Date.now());
    return s;
  }
  const permalinkGateway = (link: string, asked: string[]) => ({ permalink: async (channel: string, ts: string) => { asked.push(`${channel}/${ts}`); return link; } }) as unknown as SlackGateway;

  it('says a job has no thread (detail and a coded refusal), and asks the running gateway for the thread’s link once there is one, opening only that', async () => {
    const { core, handlers, opened } = withJob();
    expect((await handlers['jobs:detail']('4242')).slackThread).toBe(false);
    expect(await codeOf(handlers['jobs:openSlackThread']('4242'))).toBe('SLACK_NO_THREAD');

    slackThreads(core).setJobThread('4242', { channel: 'C0GENERAL01', ts: '1700000000.000100' });
    expect((await handlers['jobs:detail']('4242')).slackThread).toBe(true);
    // No gateway running: the link cannot be asked for.
    expect(await codeOf(handlers['jobs:openSlackThread']('4242'))).toBe('SLACK_STOPPED');
    const asked: string[] = [];
    slackHub(core).attach(permalinkGateway('https://emulated.slack.com/archives/C0GENERAL01/p1700000000000100', asked));
    await expect(handlers['jobs:openSlackThread']('4242')).resolves.toEqual({ permalink: 'https://emulated.slack.com/archives/C0GENERAL01/p1700000000000100' });
    expect(asked).toEqual(['C0GENERAL01/1700000000.000100']);
    expect(opened).toEqual(['https://emulated.slack.com/archives/C0GENERAL01/p1700000000000100']);
    expect(await codeOf(handlers['jobs:openSlackThread']('999'))).toBe('JOB_NOT_FOUND');
  });

  it.each([
    'http://emulated.slack.com/archives/C1/p1',
    'https://slack.com.evil.example/archives/C1/p1',
    'https://evilslack.com/archives/C1/p1',
    'https://user:pw@team.slack.com/archives/C1/p1',
    'https://team.slack.com:8443/archives/C1/p1',
    'javascript:alert(1)//.slack.com',
    'file:///etc/passwd',
    'not a url',
  ])('refuses to open %s, with a clear error', async (link) => {
    const { core, handlers, opened } = withJob();
    slackThreads(core).setJobThread('4242', { channel: 'C0GENERAL01', ts: '1.000100' });
    slackHub(core).attach(permalinkGateway(link, []));
    const e = await Promise.resolve(handlers['jobs:openSlackThread']('4242')).then(() => null, (err: unknown) => err);
    expect(isRelayError(e, 'EXTERNAL_URL_REFUSED')).toBe(true);
    expect(String((e as Error).message)).toMatch(/not an https link on slack\.com, so it was not opened\. Check slack\.apiUrl/);
    expect(opened).toEqual([]);
  });
});

describe('doctor:run', () => {
  it('adds the app\'s own checks (desktop notifications) after the core\'s', async () => {
    const { core } = setup();
    const handlers = windowHandlers({
      services: async () => ({ core, runtime: {} as unknown as Runtime }),
      appInfo: () => ({ version: '0.1.0', platform: 'linux' }),
      status: () => { throw new Error('not used'); },
      navigator: createNavigator({ showWindow: () => undefined, send: () => undefined }),
      openExternal: async () => undefined,
      appChecks: () => [notificationsCheck(() => ({ supported: true, trayEnabled: true, lastFailure: 'Toast notifications are disabled', platform: 'win32' }))],
    });
    const checks = await handlers['doctor:run']();
    expect(checks.map((c) => c.id).slice(0, core.doctorChecks().length)).toEqual(core.doctorChecks().map((c) => c.id));
    expect(checks.at(-1)).toMatchObject({ id: 'notify.desktop', ok: false, message: 'The last notification could not be shown: Toast notifications are disabled.', fix: expect.stringContaining('Settings → System → Notifications') });
  });

  it('carries a passed check’s warning to the window', async () => {
    const { core, handlers } = setup();
    const checks = await handlers['doctor:run']();
    const report = await core.doctor();
    expect(checks.map((c) => c.warning)).toEqual(report.checks.map((c) => c.warning));
    expect(checks.every((c) => typeof c.warning === 'boolean')).toBe(true);
  });
});
