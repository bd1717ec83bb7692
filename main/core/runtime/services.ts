import { clusterLinkService, type ServiceFactory } from './runtime.js';

/**
 * The services the tray app and `hpc-relay daemon` run, in start order (stopped in reverse).
 * One list for both, so the app and the daemon never drift apart.
 */
export const RELAY_SERVICES: readonly ServiceFactory[] = [clusterLinkService];
