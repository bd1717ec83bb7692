import { z } from 'zod';

/**
 * Every setting, by its dotted key: the one list that the schema, the CLI, the window and the
 * README are made from. `expected` is the phrase an error uses for a wrong value.
 */
export interface SettingSpec {
  schema: z.ZodType;
  /** Undefined means "not set": the value is derived at run time (for example from ~/.ssh/config). */
  default: unknown;
  expected: string;
  description: string;
}

/** The agent's model when llm.model is not set. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user ID such as U012ABCDEF');
const httpUrl = z.url({ protocol: /^https?$/ });

function spec(schema: z.ZodType, def: unknown, expected: string, description: string): SettingSpec {
  return { schema, default: def, expected, description };
}

export const SETTINGS = {
  'cluster.host': spec(z.string().min(1).max(255).regex(/^[^\s'"`$;|&<>]+$/), undefined, 'a host name or an alias from ~/.ssh/config', 'Login node: an alias from your SSH config (Host hpc) or a host name.'),
  'cluster.port': spec(z.int().min(1).max(65535), undefined, 'a port number from 1 to 65535', 'SSH port; defaults to the SSH config, else 22.'),
  'cluster.user': spec(z.string().regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/), undefined, 'a user name', 'Cluster user name; defaults to the SSH config, else your local user.'),
  'cluster.identityFile': spec(z.string().min(1), undefined, 'a path to a private key file', 'Private key; defaults to the SSH config and ssh-agent.'),
  'cluster.proxyJump': spec(z.string().min(1).regex(/^[^\s'"`$;|&<>]+$/), undefined, 'a jump host list such as user@bastion:22,hop2', 'Bastion host(s), as in ssh -J; defaults to the SSH config.'),
  'cluster.sshConfigFile': spec(z.string().min(1), '~/.ssh/config', 'a path to an SSH config file', 'SSH config file to read host aliases from.'),
  'cluster.knownHostsFile': spec(z.string().min(1), '~/.ssh/known_hosts', 'a path to a known_hosts file', 'known_hosts file used to verify the login node.'),
  'cluster.remoteDir': spec(z.string().min(1).regex(/^[^\n\0]+$/), undefined, 'an absolute remote path or one starting with $HOME or ~', 'Remote working directory; default /scratch/$USER/hpc-relay where /scratch exists, else $HOME/hpc-relay.'),
  'cluster.pollSeconds': spec(z.int().min(30).max(3600), 60, 'a whole number of seconds from 30 to 3600', 'Seconds between scheduler checks (one squeue + one sacct for all jobs); at least 30, cluster admins forbid tight loops.'),
  'slack.enabled': spec(z.boolean(), false, 'true or false', 'Connect to Slack in Socket Mode.'),
  'slack.apiUrl': spec(httpUrl, 'https://slack.com/api/', 'an http(s) URL', "Slack Web API base URL (for enterprise proxies and tests)."),
  'slack.allowedUsers': spec(z.array(slackUserId).max(1000), [], 'a JSON list of Slack user IDs such as ["U012ABCDEF"]', 'Slack users allowed to act; everyone else is refused.'),
  'slack.homeChannel': spec(z.string().regex(/^[#@]?[A-Za-z0-9._-]{1,80}$/), undefined, 'a channel ID such as C012ABCDEF or a #channel-name', 'Where job reports and monitors are posted.'),
  'llm.enabled': spec(z.boolean(), false, 'true or false', 'Send free-form Slack requests to the agent.'),
  'llm.model': spec(z.string().min(1).max(200), DEFAULT_MODEL, 'a model name', 'Model the agent uses.'),
  'llm.baseUrl': spec(httpUrl, undefined, 'an http(s) URL', 'Anthropic-compatible API base URL (gateways, local servers); default Anthropic.'),
  'llm.maxTurns': spec(z.int().min(1).max(200), 20, 'a whole number from 1 to 200', 'Most model turns for one request.'),
  'llm.monthlyBudgetUsd': spec(z.number().min(0).max(100000), 20, 'a number of US dollars, 0 or more', 'Monthly spending cap for the agent; it stops with a clear message when reached.'),
  'notify.tray': spec(z.boolean(), true, 'true or false', 'Show a desktop notification when a job ends.'),
  'notify.slack': spec(z.boolean(), true, 'true or false', 'Post a Slack report when a job ends.'),
  'app.openAtLogin': spec(z.boolean(), false, 'true or false', 'Start HPC Relay at login, in the tray without a window (macOS and Windows).'),
  'triage.mode': spec(z.enum(['notify', 'remediate']), 'notify', '"notify" or "remediate"', 'On failure: only tell you (notify), or also bump memory/time and resubmit (remediate).'),
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}
