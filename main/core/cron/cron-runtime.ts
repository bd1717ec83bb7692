/**
 * Wiring cron monitors into the core: one CronService per core (the CLI, Slack's `/hpc cron …`
 * and the window share it through cronServiceFor), and the runtime service that runs its
 * scheduler in the tray app and in `hpc-relay daemon`.
 */
import type { Core } from '../index.js';
import type { Clock } from '../ports.js';
import type { ServiceFactory } from '../runtime/runtime.js';
import { CronStore } from '../store/cron-store.js';
import { CronService } from './cron-service.js';
import type { AgentRunner, DigestSource, SlackPoster } from './ports.js';
import { SqueueDigestSource } from './squeue-digest-source.js';

export interface CronPorts {
  slack?: SlackPoster | undefined;
  agent?: AgentRunner | undefined;
  digest?: DigestSource | undefined;
}

const services = new WeakMap<Core, CronService>();

/**
 * The core's CronService (made on first use, over core.db()). Ports other services provide later
 * (Slack's poster, the agent, the job service's richer digest) are attached with `attach()`.
 */
export function cronServiceFor(core: Core, opts: { clock?: Clock } = {}): CronService {
  let s = services.get(core);
  if (!s) {
    s = new CronService({
      store: new CronStore(core.db()),
      logger: core.logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
      notifier: core.notifier ?? undefined,
      // squeue over the shared SSH session, until the job service attaches its own source.
      digest: core.settings.settings().cluster.host ? new SqueueDigestSource(() => core.cluster()) : undefined,
      homeChannel: () => core.settings.settings().slack.homeChannel,
      model: () => core.settings.settings().llm.model,
    });
    services.set(core, s);
  }
  return s;
}

/** The scheduler as a runtime service; declines (null) while no cluster is configured. */
export function makeCronServiceFactory(ports: (core: Core) => CronPorts = () => ({})): ServiceFactory {
  return async (core) => {
    if (!core.settings.settings().cluster.host) return null;
    const cron = cronServiceFor(core);
    const p = ports(core);
    cron.attach({ digest: p.digest ?? new SqueueDigestSource(() => core.cluster()), ...(p.slack ? { slack: p.slack } : {}), ...(p.agent ? { agent: p.agent } : {}) });
    return {
      name: 'cron',
      start: () => cron.start(),
      stop: () => cron.stop(),
      resume: () => cron.wake(),
      restartOn: ['cluster.host'],
    };
  };
}

export const cronServiceFactory: ServiceFactory = makeCronServiceFactory();

/**
 * For the composition root, which builds the Slack gateway service: `cron` is the CronApi for
 * `/hpc cron list|pause|resume`, and `onGateway` hands the gateway's post() to monitors (and takes
 * it back when the gateway stops):
 *
 *   async (core) => { const w = wireCronToSlack(core);
 *     return createSlackGatewayService({ ports: () => ({ cron: w.cron }), onGateway: w.onGateway })(core); }
 */
export function wireCronToSlack(core: Core): { cron: CronService; onGateway: (gateway: SlackPoster | null) => void } {
  const cron = cronServiceFor(core);
  return { cron, onGateway: (gateway) => cron.attach({ slack: gateway ?? undefined }) };
}
