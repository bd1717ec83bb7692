import { makeAgentServiceFactory } from '../agent/runtime.js';
import { makeCronServiceFactory } from '../cron/cron-runtime.js';
import type { Core } from '../index.js';
import { jobsServiceFactory } from '../jobs/jobs-runtime.js';
import type { NotifyChannels } from '../notify/dispatcher.js';
import { slackGatewayService } from '../slack/service.js';
import { sweepEndChannel } from '../slack/sweep-report.js';
import { slackHub } from '../slack/wiring.js';
import { clusterLinkService, type ServiceFactory } from './runtime.js';

/**
 * Where a job's end is reported: the tray (the notifier honours notify.tray and pauses itself) and
 * Slack when it is on and notify.slack allows. A report for Slack waits in the outbox while the
 * gateway is down and is delivered once it is back.
 */
export function jobEndChannels(core: Core): NotifyChannels {
  const s = core.settings.settings();
  return {
    ...(core.notifier ? { tray: core.notifier } : {}),
    // A sweep's end is one report (sweep-report.ts) instead of one per task.
    ...(s.slack.enabled && s.notify.slack ? { slack: { reportJobEnd: (r) => slackHub(core).reporter.reportJobEnd(r), reportSweepEnd: sweepEndChannel(core) } } : {}),
  };
}

/**
 * The services the tray app (main/index.ts) and `hpc-relay daemon` (main/cli.ts) run, in start
 * order (stopped in reverse). One list for both, so the app and the daemon never drift apart:
 * add a new long-running service here.
 */
export const RELAY_SERVICES: readonly ServiceFactory[] = [
  clusterLinkService,
  slackGatewayService,
  jobsServiceFactory({ channels: jobEndChannels }),
  // Job ends reach the agent (one summary for the jobs it launched; research loops advance).
  makeAgentServiceFactory({ poster: (core) => slackHub(core).threadPoster }),
  makeCronServiceFactory((core) => ({ slack: slackHub(core).poster })),
];
