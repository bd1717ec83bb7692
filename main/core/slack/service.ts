/**
 * The Slack gateway as a core service (the daemon's and the tray app's runtime start it): on when
 * slack.enabled is true and both tokens are set. Slack being unreachable at start does not fail
 * the service: it keeps trying in the background (other services do not wait). A refused token
 * does fail it, with the fix in the log and in the doctor.
 */
import { describeError, isRelayError } from '../errors.js';
import type { Core } from '../index.js';
import type { Clock } from '../ports.js';
import { systemClock } from '../ports.js';
import type { Service, ServiceFactory } from '../runtime/runtime.js';
import { createSlackGateway } from './gateway.js';
import type { SlackGateway, SlackGatewayOptions, SlackGatewayState } from './gateway.js';
import type { LinkStatus } from '../ports.js';
import type { SlackPorts } from './jobs-api.js';
import { corePorts, slackHub, slackThreads } from './wiring.js';

export interface SlackServiceOptions {
  /** The ports the composition root wires in (job service, cron, usage, agent). */
  ports?: (core: Core) => SlackPorts;
  /**
   * Told when a gateway is up and when it goes (null): where the composition root hands its
   * `reporter` to the notify dispatcher and its `post` to cron monitors.
   */
  onGateway?: (gateway: SlackGateway | null, core: Core) => void;
  /** Extra gateway options (tests: ping timeouts, reconnect delays). */
  gateway?: Partial<Pick<SlackGatewayOptions, 'clientPingTimeoutMs' | 'serverPingTimeoutMs' | 'reconnect' | 'stopTimeoutMs' | 'boltLogLevel' | 'chartRenderer'>>;
  clock?: Clock;
  /** Delay before retrying an unreachable Slack at start (doubles up to 5 minutes; default 5000). */
  retryBaseMs?: number;
}

/** Setting reads go to the settings file; per message that is wasteful, so keep them a second. */
function cached<T>(read: () => T, ttlMs = 1000): () => T {
  let at = -Infinity;
  let value: T;
  return () => {
    const now = Date.now();
    if (now - at > ttlMs) {
      value = read();
      at = now;
    }
    return value;
  };
}

export function createSlackGatewayService(opts: SlackServiceOptions = {}): ServiceFactory {
  return async (core) => {
    const log = core.logger.child({ component: 'slack-service' });
    const s = core.settings.settings().slack;
    if (!s.enabled) return null;
    const [botToken, appToken] = await Promise.all([core.secrets.get('slack-bot-token'), core.secrets.get('slack-app-token')]);
    const missing = [!botToken && 'slack-bot-token', !appToken && 'slack-app-token'].filter((x): x is string => typeof x === 'string');
    if (!botToken || !appToken) {
      log.warn('Slack is enabled but not set up; the gateway is not started', {
        missing, fix: missing.map((m) => `hpc-relay secrets set ${m}`).join(' and '),
      });
      return null;
    }
    const clock = opts.clock ?? systemClock;
    const slack = cached(() => core.settings.settings().slack);
    const threads = slackThreads(core);
    const ports = opts.ports?.(core) ?? {};
    let gateway: SlackGateway | undefined;
    let retry: { cancel(): void } | undefined;
    let stopped = false;
    let attempts = 0;

    const make = (): SlackGateway => createSlackGateway({
      botToken, appToken,
      apiUrl: slack().apiUrl,
      logger: core.logger,
      registry: core.registry,
      allowedUsers: () => slack().allowedUsers,
      homeChannel: () => slack().homeChannel,
      ports,
      doctor: () => core.doctor(),
      threads,
      clock,
      onStateChange: (state, h) => {
        const status = linkStatus(state, h.numConnections, h.lastError);
        if (status) core.status.publish({ slack: status });
      },
      ...opts.gateway,
    });

    const attempt = async (): Promise<void> => {
      const g = make();
      gateway = g;
      try {
        await g.start();
        attempts = 0;
        opts.onGateway?.(g, core);
      } catch (e) {
        await g.stop().catch(() => undefined);
        if (stopped) return;
        if (!isRelayError(e, 'SLACK_UNREACHABLE')) {
          core.status.publish({ slack: { state: 'attention', detail: describeError(e) } });
          throw e;
        }
        attempts++;
        const delay = Math.min((opts.retryBaseMs ?? 5000) * 2 ** Math.min(attempts - 1, 10), 5 * 60_000);
        log.warn('Slack is not reachable; trying again', { err: describeError(e), retryInMs: delay, attempt: attempts });
        core.status.publish({ slack: { state: 'disconnected', detail: `Slack is not reachable; trying again in ${Math.round(delay / 1000)} s.` } });
        retry = clock.setTimeout(() => {
          retry = undefined;
          if (!stopped) attempt().catch((err: unknown) => log.error('the Slack gateway cannot start', { err: describeError(err) }));
        }, delay);
      }
    };

    const service: Service & { gateway(): SlackGateway | undefined } = {
      name: 'slack-gateway',
      gateway: () => gateway,
      // New tokens or Slack settings: the runtime builds the gateway again.
      restartOn: ['slack.', 'secret:slack-'],
      async start() {
        await attempt();
      },
      async stop() {
        stopped = true;
        retry?.cancel();
        opts.onGateway?.(null, core);
        await gateway?.stop();
      },
    };
    return service;
  };
}

/** The gateway's state for the tray and the window (null: leave the board as it is). */
export function linkStatus(state: SlackGatewayState, numConnections: number | null, lastError: string | null): LinkStatus | null {
  switch (state) {
    case 'connected':
      return numConnections !== null && numConnections > 1
        ? { state: 'attention', detail: `${numConnections} processes share this Slack app token; each gets only some of the messages.` }
        : { state: 'connected' };
    case 'starting':
      return { state: 'connecting' };
    case 'reconnecting':
      return { state: 'connecting', detail: lastError ? `Reconnecting to Slack (${lastError}).` : 'Reconnecting to Slack.' };
    case 'stopped':
      return { state: 'off' };
    default:
      return null;
  }
}

/**
 * The gateway as the app and the daemon run it: commands on the core's job service and cron
 * monitors, and attached to the core's Slack hub (job reports from the notify dispatcher, cron
 * posts). The agent port joins when the agent exists.
 */
export const slackGatewayService: ServiceFactory = createSlackGatewayService({
  ports: corePorts,
  onGateway: (gateway, core) => slackHub(core).attach(gateway),
});
