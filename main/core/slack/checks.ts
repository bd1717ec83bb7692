/**
 * Slack setup checks for the doctor (`slack.auth`, `slack.scopes`, `slack.socket`) and for
 * `hpc-relay slack test` (those plus `slack.events`: a message the bot posts must come back as an
 * event — the check that catches a bot connected without event subscriptions, which otherwise
 * looks healthy and never hears anything).
 */
import { SocketModeReceiver, webApi } from '@slack/bolt';
import type { SettingsService } from '../config/settings.js';
import type { DoctorCheck } from '../doctor/doctor.js';
import type { Logger } from '../ports.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import { boltLoggerFor, toBoltLogLevel } from './bolt-logger.js';
import { RelayError } from '../errors.js';
import { SlackGatewayError, platformData, slackPlatformError } from './errors.js';
import { SocketSupervisor } from './liveness.js';
import { REPORT_LOOKUP_SCOPES, REQUIRED_BOT_SCOPES } from './manifest.js';

export interface SlackCheckDeps {
  settings: SettingsService;
  secrets: SecretsService;
  logger: Logger;
}

interface Tokens {
  bot: string | null;
  app: string | null;
  apiUrl: string;
}

const TOKEN_FIX = {
  bot: 'Copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions and run `hpc-relay secrets set slack-bot-token`.',
  app: 'Create an app-level token with connections:write (Basic Information → App-Level Tokens) and run `hpc-relay secrets set slack-app-token`.',
};

async function tokens(d: SlackCheckDeps): Promise<Tokens> {
  const [bot, app] = await Promise.all([d.secrets.get('slack-bot-token'), d.secrets.get('slack-app-token')]);
  return { bot, app, apiUrl: d.settings.settings().slack.apiUrl };
}

function webClient(token: string, apiUrl: string, logger: Logger): webApi.WebClient {
  return new webApi.WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 1 }, timeout: 15_000, logger: boltLoggerFor(logger, 'error'), logLevel: toBoltLogLevel('error') });
}

function why(e: unknown): string {
  return slackPlatformError(e) ?? (e instanceof Error ? e.message : String(e));
}

interface AuthInfo {
  team: string;
  user: string;
  userId: string;
  scopes: string[] | null;
}

async function authTest(t: Tokens, logger: Logger): Promise<AuthInfo> {
  if (!t.bot) throw new SlackGatewayError('SLACK_NOT_CONFIGURED', 'The Slack bot token is not set.', { fix: TOKEN_FIX.bot });
  try {
    const r = await webClient(t.bot, t.apiUrl, logger).auth.test();
    const meta = r.response_metadata as { scopes?: string[] } | undefined;
    return { team: String(r.team ?? r.team_id ?? '?'), user: String(r.user ?? '?'), userId: String(r.user_id ?? ''), scopes: meta?.scopes ?? null };
  } catch (e) {
    const platform = slackPlatformError(e);
    if (platform) throw new SlackGatewayError('SLACK_BOT_TOKEN_REFUSED', `Slack refused the bot token (${platform}).`, { fix: TOKEN_FIX.bot, cause: e });
    throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not reach Slack at ${t.apiUrl}: ${why(e)}.`, { fix: 'Check the network connection and slack.apiUrl.', cause: e });
  }
}

export interface SocketProbe {
  numConnections: number | null;
  /** Waits for an events_api envelope matching `match` (acked), or null after `timeoutMs`. Others are left un-acked, for the other connections. */
  waitForEvent(match: (event: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown> | null>;
  close(): Promise<void>;
}

interface SlackEventArgs {
  type?: string;
  body?: { event?: Record<string, unknown> };
  ack?: () => Promise<void>;
}

/** Opens a Socket Mode link (apps.connections.open + WebSocket) and reads Slack's hello. */
export async function openSocketProbe(appToken: string, apiUrl: string, logger: Logger, timeoutMs = 15_000): Promise<SocketProbe> {
  const receiver = new SocketModeReceiver({
    appToken,
    logger: boltLoggerFor(logger, 'error'),
    logLevel: toBoltLogLevel('error'),
    autoReconnectEnabled: false,
    installerOptions: { clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } } },
  });
  const client = receiver.client;
  const supervisor = new SocketSupervisor({ client, logger, connectTimeoutMs: timeoutMs, closeHandshakeMs: 1000 });
  const events: SlackEventArgs[] = [];
  const waiters = new Set<() => void>();
  client.on('slack_event', (args: SlackEventArgs) => {
    events.push(args);
    for (const w of waiters) w();
  });
  await supervisor.connectFirst(() => client.start());
  return {
    numConnections: supervisor.health().numConnections,
    waitForEvent(match, ms) {
      return new Promise((resolve) => {
        const check = (): void => {
          const hit = events.find((a) => a.type === 'events_api' && a.body?.event && match(a.body.event));
          if (!hit?.body?.event) return;
          waiters.delete(check);
          clearTimeout(timer);
          void hit.ack?.().catch(() => undefined);
          resolve(hit.body.event);
        };
        const timer = setTimeout(() => { waiters.delete(check); resolve(null); }, ms);
        waiters.add(check);
        check();
      });
    },
    close: () => supervisor.close(),
  };
}

function needToken(t: Tokens, which: 'bot' | 'app'): string {
  const v = t[which];
  if (!v) throw new SlackGatewayError('SLACK_NOT_CONFIGURED', `The Slack ${which === 'bot' ? 'bot' : 'app-level'} token is not set.`, { fix: TOKEN_FIX[which] });
  return v;
}

function fail(message: string, fix: string): { ok: false; message: string; fix: string } {
  return { ok: false, message, fix };
}

/** A coded error as a failed check: its sentence and its fix, apart. */
function failWith(e: unknown): { ok: false; message: string; fix: string } {
  if (e instanceof RelayError) return fail(e.fix ? e.message.replace(` ${e.fix}`, '') : e.message, e.fix ?? '');
  return fail(why(e), '');
}

/** The checks; `events` adds the round-trip self-test (it posts one message to the first allowed user). */
export function slackChecks(d: SlackCheckDeps, opts: { events?: boolean; eventTimeoutMs?: number } = {}): DoctorCheck[] {
  let auth: Promise<AuthInfo> | undefined;
  const authOnce = async (): Promise<AuthInfo> => (auth ??= tokens(d).then((t) => authTest(t, d.logger)));
  const checks: DoctorCheck[] = [
    {
      id: 'slack.auth',
      title: 'Slack bot token',
      async run() {
        try {
          const a = await authOnce();
          return { ok: true, message: `Signed in to ${a.team} as @${a.user}.` };
        } catch (e) {
          return failWith(e);
        }
      },
    },
    {
      id: 'slack.scopes',
      title: 'Slack bot scopes',
      async run() {
        let a: AuthInfo;
        try {
          a = await authOnce();
        } catch {
          return fail('Cannot check scopes without a working bot token.', 'Fix the Slack bot token first.');
        }
        if (!a.scopes) return { ok: true, message: 'Slack did not list the token’s scopes; skipped.' };
        const missing = REQUIRED_BOT_SCOPES.filter((s) => !a.scopes?.includes(s));
        if (missing.length === 0) return { ok: true, message: `All ${REQUIRED_BOT_SCOPES.length} scopes the relay uses are granted.` };
        const lookup = missing.filter((s) => (REPORT_LOOKUP_SCOPES as readonly string[]).includes(s));
        const why = lookup.length
          ? ` Without ${lookup.join(' and ')} a job report whose post was interrupted cannot be looked up in Slack, and may be posted twice.`
          : '';
        return fail(`The bot token lacks ${missing.join(', ')}.${why}`, 'Paste the output of `hpc-relay slack manifest` into the app’s settings (App Manifest), or add them under OAuth & Permissions → Bot Token Scopes, then reinstall the app to the workspace: scope changes apply only after reinstalling.');
      },
    },
    {
      id: 'slack.socket',
      title: 'Slack Socket Mode',
      async run() {
        const t = await tokens(d);
        let probe: SocketProbe;
        try {
          probe = await openSocketProbe(needToken(t, 'app'), t.apiUrl, d.logger);
        } catch (e) {
          if (e instanceof RelayError) return failWith(e);
          const platform = platformData(e)?.error;
          if (platform) return fail(`Slack refused the app-level token (${platform}).`, TOKEN_FIX.app);
          return fail(`Could not open the Socket Mode link: ${why(e)}.`, 'Check that Socket Mode is on (app settings → Socket Mode) and that the network allows WebSockets to Slack.');
        }
        await probe.close();
        const n = probe.numConnections;
        const others = n !== null && n > 1 ? ` ${n - 1} other connection${n > 2 ? 's use' : ' uses'} this app token (a running relay, or another process: Slack splits events between them).` : '';
        return { ok: true, message: `The Socket Mode link opens and Slack says hello.${others}` };
      },
    },
  ];
  if (opts.events) {
    checks.push({
      id: 'slack.events',
      title: 'Slack delivers events',
      async run() {
        const t = await tokens(d);
        const user = d.settings.settings().slack.allowedUsers[0];
        if (!user) return fail('No one to test with: slack.allowedUsers is empty.', 'Add your Slack user ID: `hpc-relay config set slack.allowedUsers \'["U012ABCDEF"]\'` (profile → ⋮ → Copy member ID).');
        let bot: webApi.WebClient;
        let probe: SocketProbe;
        try {
          bot = webClient(needToken(t, 'bot'), t.apiUrl, d.logger);
          probe = await openSocketProbe(needToken(t, 'app'), t.apiUrl, d.logger);
        } catch (e) {
          return e instanceof RelayError ? failWith(e) : fail(`Could not open the Socket Mode link: ${why(e)}.`, 'Fix the Slack Socket Mode check first.');
        }
        try {
          const open = await bot.conversations.open({ users: user });
          const channel = open.channel?.id;
          if (!channel) return fail(`Slack did not open a DM with ${user}.`, 'Check that the bot has im:write and that the user ID is right.');
          const posted = await bot.chat.postMessage({ channel, text: 'HPC Relay self-test: checking that Slack delivers events to the relay. Nothing to do here.' });
          const ts = posted.ts;
          const echo = await probe.waitForEvent((ev) => ev.type === 'message' && ev.channel === channel && ev.ts === ts, opts.eventTimeoutMs ?? 10_000);
          if (echo) return { ok: true, message: 'A message the bot posted came back as an event: event subscriptions work.' };
          if (probe.numConnections !== null && probe.numConnections > 1) {
            return fail('Inconclusive: the test event did not arrive here, and another process is connected with this app token (it may have received it).', 'Stop the other relay (the app or `hpc-relay daemon`) and run `hpc-relay slack test` again.');
          }
          return fail('Socket Mode connects, but the test event never arrived: the app is not subscribed to the bot events it needs.', 'In the app settings → Event Subscriptions, turn events on and subscribe to the bot events app_mention and message.im (App Home → allow messages too), then reinstall the app — or recreate it from `hpc-relay slack manifest`.');
        } catch (e) {
          const data = platformData(e);
          if (data?.error === 'missing_scope') return fail(`Slack refused the test message: the bot token lacks ${data.needed ?? 'a scope'}.`, 'Add it under OAuth & Permissions, then reinstall the app.');
          return fail(`The event self-test failed: ${why(e)}.`, 'Run `hpc-relay slack test` again; if it persists, check the bot’s scopes.');
        } finally {
          await probe.close();
        }
      },
    });
  }
  return checks;
}

/** The doctor's Slack checks: none while slack.enabled is false. */
export function slackDoctorChecks(d: SlackCheckDeps): DoctorCheck[] {
  return d.settings.settings().slack.enabled ? slackChecks(d) : [];
}
