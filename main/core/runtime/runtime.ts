import { LinkKeeper } from '../cluster/link-keeper.js';
import { describeError } from '../errors.js';
import type { Core } from '../index.js';
import { systemClock, type Clock } from '../ports.js';

/** A long-running part of the core (link keeper, Slack gateway, watchers, monitors). */
export interface Service {
  name: string;
  start(): Promise<void>;
  /** Finish in-flight work, flush what is pending, then release resources. */
  stop(): Promise<void>;
  resume?(): Promise<void>;
}

export type ServiceFactory = (core: Core) => Promise<Service | null>;

/** The cluster link, kept up for as long as the runtime runs (when a cluster is configured). */
export const clusterLinkService: ServiceFactory = async (core) => {
  if (!core.settings.settings().cluster.host) return null;
  const keeper = new LinkKeeper(core.cluster().ssh, systemClock, core.logger.child({ component: 'link' }));
  return {
    name: 'cluster-link',
    async start() { keeper.start(); },
    async stop() { keeper.stop(); core.cluster().close(); },
    resume: () => keeper.resume(),
  };
};

/**
 * Starts the core's services for the tray app and `hpc-relay daemon` alike, stops them in reverse
 * order. A service that fails to start is logged and left out; the others still run.
 */
export class Runtime {
  private started: Service[] = [];

  constructor(private readonly core: Core, private readonly factories: ServiceFactory[], readonly clock: Clock = systemClock) {}

  async start(): Promise<string[]> {
    for (const make of this.factories) {
      try {
        const s = await make(this.core);
        if (!s) continue;
        await s.start();
        this.started.push(s);
        this.core.logger.info('service started', { service: s.name });
      } catch (e) {
        this.core.logger.error('service failed to start', { error: describeError(e) });
      }
    }
    return this.started.map((s) => s.name);
  }

  async resume(): Promise<void> {
    for (const s of this.started) await s.resume?.().catch((e: unknown) => this.core.logger.warn('resume failed', { service: s.name, error: describeError(e) }));
  }

  async stop(): Promise<void> {
    for (const s of [...this.started].reverse()) {
      await s.stop().catch((e: unknown) => this.core.logger.error('service failed to stop cleanly', { service: s.name, error: describeError(e) }));
      this.core.logger.info('service stopped', { service: s.name });
    }
    this.started = [];
  }
}
