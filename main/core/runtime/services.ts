import { cronServiceFactory } from '../cron/cron-runtime.js';
import { jobsServiceFactory } from '../jobs/jobs-runtime.js';
import { slackGatewayService } from '../slack/service.js';
import { clusterLinkService, type ServiceFactory } from './runtime.js';

/**
 * The services the tray app (main/index.ts) and `hpc-relay daemon` (main/cli.ts) run, in start
 * order (stopped in reverse). One list for both, so the app and the daemon never drift apart:
 * add a new long-running service here.
 */
export const RELAY_SERVICES: readonly ServiceFactory[] = [clusterLinkService, slackGatewayService, jobsServiceFactory(), cronServiceFactory];
