/**
 * Sleep and wake: after `resume` (and `unlock-screen`, which on some laptops is the only sign
 * of a long sleep) the core's services check their links at once instead of waiting for
 * keepalives to time out. The two often arrive together: one check at a time is enough.
 */
import type { PowerMonitor } from 'electron';
import type { Logger } from '../core/ports.js';

export function wirePower(powerMonitor: Pick<PowerMonitor, 'on'>, resume: () => Promise<void>, logger: Logger): void {
  let inFlight: Promise<void> | null = null;
  const wake = (why: string): void => {
    if (inFlight) return;
    logger.info('power: checking links after wake', { why });
    inFlight = resume()
      .catch((e: unknown) => logger.warn('power: resume failed', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        inFlight = null;
      });
  };
  powerMonitor.on('suspend', () => logger.info('power: suspending'));
  powerMonitor.on('resume', () => wake('resume'));
  powerMonitor.on('unlock-screen', () => wake('unlock-screen'));
}
