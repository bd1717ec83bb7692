import fs from 'node:fs';
import os from 'node:os';
import SSHConfig from 'ssh-config';
import { RelayError } from '../errors.js';
import type { Settings } from '../config/settings-types.js';
import { expandHome } from '../config/home.js';

export interface JumpHost {
  host: string;
  port: number;
  user: string;
  /** The hop's own IdentityFile entries from the SSH config, when it has any (else the target's). */
  identityFiles?: string[];
}

/** Where and as whom to connect, after ~/.ssh/config and explicit settings are merged. */
export interface SshTarget {
  /** What the user calls it (the alias), for messages and keychain names. */
  alias: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  jumps: JumpHost[];
  keepaliveSeconds: number;
  knownHostsFile: string;
  /** cluster.remoteDir as set (unset: ClusterService.remoteDir() picks the default on the cluster). */
  remoteDir?: string;
  /** IdentityAgent from the SSH config, as written (see chooseAgent). */
  identityAgent?: string;
}

/** What OpenSSH tries when no IdentityFile is configured (the ones ssh2 can read). */
export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function parsePort(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RelayError('SSH_NOT_CONFIGURED', `${what} has an invalid port "${v}".`, { fix: 'Use a port from 1 to 65535.' });
  return n;
}

/** `user@host:port,host2` (ssh -J syntax) into hops, each resolved through the SSH config too. */
export function parseJumpList(spec: string, config: SSHConfig | null, defaultUser: string): JumpHost[] {
  if (spec.toLowerCase() === 'none') return [];
  return spec.split(',').map((hop) => {
    const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop.trim());
    if (!m || !m[2]) throw new RelayError('SSH_NOT_CONFIGURED', `The jump host "${hop}" is not of the form user@host:port.`, { fix: 'Fix cluster.proxyJump or ProxyJump in your SSH config.' });
    const alias = m[2].replace(/^\[|\]$/g, '');
    const c = config?.compute(alias) ?? {};
    const identityFiles = all(c.IdentityFile).map((f) => expandHome(f));
    return {
      host: first(c.HostName) ?? alias,
      port: parsePort(m[3], `The jump host "${hop}"`) ?? parsePort(first(c.Port), `Host ${alias} in your SSH config`) ?? 22,
      user: m[1] ?? first(c.User) ?? defaultUser,
      ...(identityFiles.length ? { identityFiles } : {}),
    };
  });
}

function loadSshConfig(file: string): SSHConfig | null {
  try {
    return SSHConfig.parse(fs.readFileSync(expandHome(file), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RelayError('SSH_NOT_CONFIGURED', `Could not read the SSH config ${file}: ${(e as Error).message}.`, { fix: 'Fix the file or point cluster.sshConfigFile elsewhere.' });
  }
}

/** Resolves cluster.* settings against the SSH config (a maintained parser: ssh-config). */
export function resolveSshTarget(cluster: Settings['cluster'], localUser = os.userInfo().username): SshTarget {
  if (!cluster.host) {
    throw new RelayError('SSH_NOT_CONFIGURED', 'No cluster is configured.', { fix: 'Run `hpc-relay config set cluster.host HOST` with an alias from ~/.ssh/config or a host name.' });
  }
  const config = loadSshConfig(cluster.sshConfigFile);
  const c = config?.compute(cluster.host) ?? {};
  const user = cluster.user ?? first(c.User) ?? localUser;
  const proxy = cluster.proxyJump ?? first(c.ProxyJump);
  const alive = Number(first(c.ServerAliveInterval));
  const configured = cluster.identityFile ? [cluster.identityFile] : all(c.IdentityFile);
  const identityFiles = configured.length ? configured : DEFAULT_IDENTITY_FILES;
  const identityAgent = first(c.IdentityAgent);
  return {
    alias: cluster.host,
    host: first(c.HostName) ?? cluster.host,
    port: cluster.port ?? parsePort(first(c.Port), `Host ${cluster.host} in your SSH config`) ?? 22,
    user,
    identityFiles: identityFiles.map((f) => expandHome(f)),
    jumps: proxy ? parseJumpList(proxy, config, user) : [],
    keepaliveSeconds: Number.isFinite(alive) && alive > 0 ? alive : 15,
    knownHostsFile: expandHome(cluster.knownHostsFile),
    ...(cluster.remoteDir ? { remoteDir: cluster.remoteDir } : {}),
    ...(identityAgent ? { identityAgent } : {}),
  };
}
