/**
 * A real Bolt app in Socket Mode wired to a Slack emulator, for tests of the emulator itself.
 * (The relay's own Bolt app is built by main/core/slack/gateway.ts.)
 */
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { boltLoggerFor } from '../../main/core/slack/bolt-logger.js';
import { SocketLink } from '../../main/core/slack/socket-link.js';
import { createMemoryLogger } from './memory-logger.js';
import type { MemoryLogger } from './memory-logger.js';
import type { SlackEmulator } from './slack-emulator.js';

export interface BoltHarness {
  app: App;
  receiver: SocketModeReceiver;
  logger: MemoryLogger;
  /** Disconnects (after a connect in progress finished) and waits until the Socket Mode client reports it is disconnected. */
  stop(): Promise<void>;
}

export interface BoltHarnessOptions {
  botToken?: string;
  appToken?: string;
  /** Pong timeout and base reconnect delay of the Socket Mode client (Bolt's default 5000). */
  clientPingTimeout?: number;
  /** Register listeners before the app connects. */
  setup?: (app: App) => void;
  /** Do not call init()/start() (for tests of start failures). */
  noStart?: boolean;
}

export async function startBolt(emu: SlackEmulator, opts: BoltHarnessOptions = {}): Promise<BoltHarness> {
  const logger = createMemoryLogger();
  const boltLogger = boltLoggerFor(logger, 'warn');
  const receiver = new SocketModeReceiver({
    appToken: opts.appToken ?? emu.appToken,
    logger: boltLogger,
    logLevel: LogLevel.WARN,
    clientPingTimeout: opts.clientPingTimeout ?? 1000,
    installerOptions: { clientOptions: { slackApiUrl: emu.apiUrl } },
  });
  const app = new App({
    token: opts.botToken ?? emu.botToken,
    receiver,
    logger: boltLogger,
    logLevel: LogLevel.WARN,
    clientOptions: { slackApiUrl: emu.apiUrl },
    deferInitialization: true,
  });
  opts.setup?.(app);
  const link = new SocketLink(receiver.client);
  const harness: BoltHarness = {
    app,
    receiver,
    logger,
    async stop() {
      await link.close();
    },
  };
  if (!opts.noStart) {
    await app.init();
    await app.start();
  }
  return harness;
}
