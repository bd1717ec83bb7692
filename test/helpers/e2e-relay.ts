/**
 * The relay as the tray app and `hpc-relay daemon` run it, for end-to-end tests: the real core
 * (settings file, SQLite store, one ssh2 session to the testbed's sshd and SLURM) with every
 * service of RELAY_SERVICES started by the real Runtime. Only Slack's and Anthropic's servers are
 * stand-ins (test/fakes' emulators, spoken to by the real @slack/bolt and @anthropic-ai/sdk
 * clients); the tray is a recording Notifier (the core's Notifier port, as main/index.ts fills it).
 * Secrets come from the HPC_RELAY_* environment, as on a server without a keychain.
 */
import path from 'node:path';
import { createCore, type Core } from '../../main/core/index.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createLogger } from '../../main/core/log/logger.js';
import type { Notification, Notifier } from '../../main/core/ports.js';
import { Runtime } from '../../main/core/runtime/runtime.js';
import { RELAY_SERVICES } from '../../main/core/runtime/services.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { startAnthropicEmulator, type AnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { startSlackEmulator, type SlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';
import { makeHome } from './temp-home.js';
import { ScriptedPrompt, testbedSettings } from './testbed-core.js';

/** The tray as the core sees it: every notification it was handed, in order. */
export class RecordingNotifier implements Notifier {
  readonly shown: Notification[] = [];
  async notify(n: Notification): Promise<void> {
    this.shown.push(n);
  }
  forJob(jobId: string): Notification[] {
    return this.shown.filter((n) => n.target === `job:${jobId}`);
  }
}

export interface E2eRelay {
  core: Core;
  runtime: Runtime;
  tray: RecordingNotifier;
  slack: SlackEmulator;
  model: AnthropicEmulator;
  /** slack.homeChannel: where job reports go. */
  homeChannel: string;
  /** cluster.remoteDir as the cluster resolved it. */
  remoteDir: string;
  /** Names of the services the runtime started. */
  services: string[];
  stop(): Promise<void>;
}

export interface E2eRelayOptions {
  /** cluster.remoteDir (default `$HOME/hpc-relay-it/e2e-<pid>-<time>`). */
  remoteDir?: string;
  /** Settings on top of the testbed's and the e2e ones. */
  settings?: Record<string, unknown>;
}

/** Starts both emulators, builds the core aimed at the testbed and them, and starts RELAY_SERVICES. */
export async function startE2eRelay(tb: TestbedInfo, opts: E2eRelayOptions = {}): Promise<E2eRelay> {
  const slack = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp });
  const model = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
  const home = makeHome('e2e');
  const registry = new SecretRegistry();
  const tray = new RecordingNotifier();
  const core = createCore({
    home,
    configStore: new FileConfigStore(home),
    keychain: null,
    keychainError: 'no keychain in this test: secrets come from the environment',
    env: {
      HPC_RELAY_SLACK_BOT_TOKEN: TEST_SECRETS.slackBot,
      HPC_RELAY_SLACK_APP_TOKEN: TEST_SECRETS.slackApp,
      HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic,
    },
    registry,
    logger: createLogger({ file: path.join(home, 'logs', 'hpc-relay.log'), registry }),
    prompt: new ScriptedPrompt(),
    notifier: tray,
  });
  const homeChannel = 'C0GENERAL01';
  const settings: Record<string, unknown> = {
    ...testbedSettings(tb),
    'cluster.remoteDir': opts.remoteDir ?? `$HOME/hpc-relay-it/e2e-${process.pid}-${Date.now()}`,
    'slack.enabled': true,
    'slack.apiUrl': slack.apiUrl,
    'slack.allowedUsers': [slack.defaultUserId],
    'slack.homeChannel': homeChannel,
    'llm.enabled': true,
    'llm.baseUrl': model.url,
    ...opts.settings,
  };
  for (const [k, v] of Object.entries(settings)) core.settings.set(k, v);
  const remoteDir = await core.cluster().remoteDir();
  const runtime = new Runtime(core, [...RELAY_SERVICES]);
  const services = await runtime.start();
  let stopped = false;
  return {
    core, runtime, tray, slack, model, homeChannel, remoteDir, services,
    async stop() {
      if (stopped) return;
      stopped = true;
      await runtime.stop();
      await core.cluster().exec(['rm', '-rf', '--', remoteDir]).catch(() => undefined);
      await core.close();
      await slack.close();
      await model.close();
    },
  };
}

/** Resolves when `probe` returns a value; polls every 250 ms. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms: number, what: string | (() => string)): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
