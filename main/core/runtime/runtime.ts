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
  /**
   * What this service was built from, as key prefixes: a setting key (`cluster.`) or a secret
   * (`secret:slack-`). When one changes while it runs, the runtime builds it again.
   */
  restartOn?: readonly string[];
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
    restartOn: ['cluster.'],
  };
};

interface Slot {
  make: ServiceFactory;
  /** The running service, or null: not started yet, declined (not configured), failed or stopped. */
  service: Service | null;
  /** The name it last ran under, so a stopped service can be started again by name. */
  name: string | null;
}

/**
 * Starts the core's services for the tray app and `hpc-relay daemon` alike, stops them in reverse
 * order. A service that fails to start is logged and left out; the others still run. A factory
 * that declines (returns null: not configured) or fails is tried again by refresh(), so a
 * setting made while the app runs takes effect without a restart. Operations run one at a time.
 */
export class Runtime {
  private slots: Slot[] = [];
  private stopped = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly core: Core, private readonly factories: ServiceFactory[], readonly clock: Clock = systemClock) {}

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  start(): Promise<string[]> {
    return this.serial(async () => {
      this.stopped = false;
      this.slots = this.factories.map((make) => ({ make, service: null, name: null }));
      for (const slot of this.slots) await this.launch(slot);
      return this.running();
    });
  }

  /** Names of the services running now, in start order. */
  running(): string[] {
    return this.slots.flatMap((slot) => (slot.service ? [slot.service.name] : []));
  }

  resume(): Promise<void> {
    return this.serial(async () => {
      for (const slot of this.slots) {
        const s = slot.service;
        await s?.resume?.().catch((e: unknown) => this.core.logger.warn('resume failed', { service: s.name, error: describeError(e) }));
      }
    });
  }

  stop(): Promise<void> {
    return this.serial(async () => {
      this.stopped = true;
      for (const slot of [...this.slots].reverse()) await this.halt(slot);
    });
  }

  /** Stops one running service (the tray's Disconnect); refresh() or restartService() brings it back. */
  stopService(name: string): Promise<boolean> {
    return this.serial(async () => {
      const slot = this.slots.find((x) => x.service?.name === name);
      if (!slot) return false;
      await this.halt(slot);
      return true;
    });
  }

  /** Stops (if running) and builds again the service last known by this name; says whether it runs now. */
  restartService(name: string): Promise<boolean> {
    return this.serial(async () => {
      const slot = this.slots.find((x) => x.name === name);
      if (!slot || this.stopped) return false;
      await this.halt(slot);
      await this.launch(slot);
      return slot.service !== null;
    });
  }

  /** Tries again every factory whose service is not running (declined, failed or stopped). */
  refresh(): Promise<string[]> {
    return this.serial(async () => {
      if (!this.stopped) for (const slot of this.slots) if (!slot.service) await this.launch(slot);
      return this.running();
    });
  }

  /**
   * A setting (`cluster.host`) or a secret (`secret:slack-bot-token`) changed: services built from
   * it start again, and factories that declined before get another chance.
   */
  configChanged(key: string): Promise<string[]> {
    return this.serial(async () => {
      if (this.stopped) return this.running();
      for (const slot of this.slots) {
        if (slot.service?.restartOn?.some((prefix) => key.startsWith(prefix))) {
          this.core.logger.info('service restarts after a change', { service: slot.service.name, key });
          await this.halt(slot);
          await this.launch(slot);
        }
      }
      for (const slot of this.slots) if (!slot.service) await this.launch(slot);
      return this.running();
    });
  }

  private async launch(slot: Slot): Promise<void> {
    try {
      const s = await slot.make(this.core);
      if (!s) return;
      slot.name = s.name;
      await s.start();
      slot.service = s;
      this.core.logger.info('service started', { service: s.name });
    } catch (e) {
      this.core.logger.error('service failed to start', { ...(slot.name ? { service: slot.name } : {}), error: describeError(e) });
    }
  }

  private async halt(slot: Slot): Promise<void> {
    const s = slot.service;
    if (!s) return;
    slot.service = null;
    await s.stop().catch((e: unknown) => this.core.logger.error('service failed to stop cleanly', { service: s.name, error: describeError(e) }));
    this.core.logger.info('service stopped', { service: s.name });
  }
}
