/**
 * The Slack app manifest: "Create New App → From an app manifest", paste, install, copy two
 * tokens. It turns on exactly what the gateway needs, including the two steps people forget
 * (event subscriptions — without them Socket Mode connects and stays deaf — and the App Home
 * messages tab, without which nobody can DM the bot).
 */

/**
 * Bot scopes the gateway uses; `hpc-relay slack test` and the doctor check for each. The three
 * `*:history` scopes let a job report whose post was interrupted (Slack took it, its answer was
 * lost) be found in the channel or DM instead of being posted twice; the bot reads only
 * conversations it is a member of.
 */
export const REQUIRED_BOT_SCOPES = [
  'app_mentions:read',
  'chat:write',
  'channels:history',
  'groups:history',
  'im:history',
  'im:read',
  'im:write',
  'channels:read',
  'files:write',
  'commands',
  'users:read',
] as const;

export const REQUIRED_BOT_EVENTS = ['app_mention', 'message.im'] as const;

/** The required scopes that let an interrupted report be found instead of posted twice. */
export const REPORT_LOOKUP_SCOPES = ['channels:history', 'groups:history', 'im:history'] as const;

/**
 * Scopes and events for following channel threads without being mentioned again: the events are
 * opt-in (Slack then sends every message of the channels the bot is in); the scopes are required
 * anyway, for report lookups.
 */
export const THREAD_FOLLOW_SCOPES = ['channels:history', 'groups:history'] as const;
export const THREAD_FOLLOW_EVENTS = ['message.channels', 'message.groups'] as const;

export interface ManifestOptions {
  name?: string;
  /** Add the channel-history scopes and events for following threads (default false). */
  followThreads?: boolean;
}

export function slackAppManifest(opts: ManifestOptions = {}): Record<string, unknown> {
  const name = opts.name ?? 'HPC Relay';
  const scopes: string[] = [...new Set<string>([...REQUIRED_BOT_SCOPES, ...(opts.followThreads ? THREAD_FOLLOW_SCOPES : [])])];
  const events: string[] = [...REQUIRED_BOT_EVENTS, ...(opts.followThreads ? THREAD_FOLLOW_EVENTS : [])];
  return {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: {
      name,
      description: 'Drive your SLURM jobs from Slack: status, logs, reports with charts.',
      background_color: '#1f2937',
    },
    features: {
      app_home: { home_tab_enabled: false, messages_tab_enabled: true, messages_tab_read_only_enabled: false },
      bot_user: { display_name: name, always_online: true },
      slash_commands: [{ command: '/hpc', description: 'HPC Relay: status, tail, cancel, submit, …', usage_hint: 'help | status | tail JOB [N] | cancel JOB', should_escape: false }],
    },
    oauth_config: { scopes: { bot: scopes } },
    settings: {
      event_subscriptions: { bot_events: events },
      interactivity: { is_enabled: true },
      org_deploy_enabled: false,
      socket_mode_enabled: true,
      token_rotation_enabled: false,
    },
  };
}
