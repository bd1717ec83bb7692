import fs from 'node:fs';
import { expandHome } from '../config/home.js';

/** Windows' own OpenSSH agent (the "OpenSSH Authentication Agent" service) listens here. */
export const WINDOWS_OPENSSH_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';

export interface AgentChoice {
  /** IdentityAgent from the SSH config for the host, as written. */
  identityAgent?: string | undefined;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Whether a path (or a Windows named pipe) exists; injectable for tests. */
  exists?: (p: string) => boolean;
}

/**
 * Which ssh-agent to ask for keys, as OpenSSH would: the host's IdentityAgent when the SSH config
 * sets one (`none` turns the agent off, `SSH_AUTH_SOCK` means the variable), else SSH_AUTH_SOCK,
 * else on Windows the built-in OpenSSH agent's pipe when it runs, or PuTTY's Pageant (ssh2 speaks
 * to both; an agent that is not running is skipped and the next method tried). Undefined: none.
 */
export function chooseAgent(c: AgentChoice): string | undefined {
  const platform = c.platform ?? process.platform;
  const exists = c.exists ?? ((p: string) => fs.existsSync(p));
  const fromEnv = c.env['SSH_AUTH_SOCK'] || undefined;
  const set = c.identityAgent?.trim();
  if (set) {
    if (set.toLowerCase() === 'none') return undefined;
    if (set === 'SSH_AUTH_SOCK' || set === '$SSH_AUTH_SOCK' || set === '${SSH_AUTH_SOCK}') return fromEnv;
    if (set.toLowerCase() === 'pageant') return 'pageant';
    return expandHome(set);
  }
  if (fromEnv) return fromEnv;
  if (platform === 'win32') return exists(WINDOWS_OPENSSH_AGENT_PIPE) ? WINDOWS_OPENSSH_AGENT_PIPE : 'pageant';
  return undefined;
}
