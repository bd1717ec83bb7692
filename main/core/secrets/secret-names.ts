import { RelayError } from '../errors.js';

/** The secrets HPC Relay knows, their keychain accounts and their environment overrides. */
export const KEYCHAIN_SERVICE = 'HPC Relay';

export interface SecretSpec {
  account: string;
  env?: string;
  label: string;
  /** Checked on entry so a pasted wrong token fails at once, not at connect time. */
  check?: (value: string) => string | null;
}

const prefix = (p: string, what: string) => (v: string) =>
  v.startsWith(p) ? null : `${what} must start with "${p}"; copy it from your Slack app's settings page.`;

export const SECRETS: Record<string, SecretSpec> = {
  'slack-bot-token': { account: 'slack-bot-token', env: 'HPC_RELAY_SLACK_BOT_TOKEN', label: 'Slack bot token', check: prefix('xoxb-', 'A Slack bot token') },
  'slack-app-token': { account: 'slack-app-token', env: 'HPC_RELAY_SLACK_APP_TOKEN', label: 'Slack app-level token', check: prefix('xapp-', 'A Slack app-level token') },
  'anthropic-api-key': { account: 'anthropic-api-key', env: 'HPC_RELAY_ANTHROPIC_API_KEY', label: 'Anthropic API key' },
};

export type SecretName = string;

/** `ssh-passphrase:<host>` holds the passphrase of the key used for that host. */
export function sshPassphraseName(host: string): string {
  return `ssh-passphrase:${host}`;
}

export function secretSpec(name: string): SecretSpec {
  const known = SECRETS[name];
  if (known) return known;
  const m = /^ssh-passphrase:([A-Za-z0-9._@:[\]-]{1,255})$/.exec(name);
  if (m) return { account: name, label: `SSH key passphrase for ${m[1]}` };
  throw new RelayError('SECRET_UNKNOWN_NAME', `"${name}" is not a secret HPC Relay uses.`, {
    fix: `Use one of: ${Object.keys(SECRETS).join(', ')}, or ssh-passphrase:HOST.`,
  });
}

export function validateSecretValue(name: string, value: string): string {
  const spec = secretSpec(name);
  const v = value.replace(/\r?\n$/, '');
  if (!v.trim()) throw new RelayError('SECRET_EMPTY', `The ${spec.label} is empty.`, { fix: 'Paste the value on standard input, for example: pbpaste | hpc-relay secrets set ' + name + '.' });
  if (/[\r\n]/.test(v)) throw new RelayError('SECRET_INVALID_FORMAT', `The ${spec.label} spans several lines; a secret is one line.`, { fix: 'Paste only the value itself.' });
  if (!/^ssh-passphrase:/.test(name) && /\s/.test(v)) throw new RelayError('SECRET_INVALID_FORMAT', `The ${spec.label} contains spaces.`, { fix: 'Paste only the token itself.' });
  const problem = spec.check?.(v);
  if (problem) throw new RelayError('SECRET_INVALID_FORMAT', problem);
  return v;
}
