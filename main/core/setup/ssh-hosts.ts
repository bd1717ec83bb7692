/**
 * The Host aliases in the user's SSH config, for the setup wizard's "pick your cluster" list.
 * Parsed with the ssh-config package (the same parser resolveSshTarget uses); wildcard patterns
 * (`Host *`, `Host *.example.org`) are not hosts one can connect to, so they are left out.
 * Top-level `Include` lines are followed (relative paths are under ~/.ssh, as OpenSSH does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig, { LineType } from 'ssh-config';
import { expandHome } from '../config/home.js';

export interface SshHostEntry {
  alias: string;
  hostName: string | null;
  user: string | null;
  port: number | null;
  proxyJump: string | null;
}

const MAX_INCLUDE_DEPTH = 4;

function values(v: string | { val: string }[]): string[] {
  return typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v.map((x) => x.val);
}

function first(v: string | string[] | undefined): string | null {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? null : s;
}

/** Expands an Include argument: `~`, relative to ~/.ssh, and a `*` or `?` in the file name only. */
function includeFiles(arg: string, home: string): string[] {
  const p = expandHome(arg, home);
  const abs = path.isAbsolute(p) ? p : path.join(home, '.ssh', p);
  const base = path.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return fs.readdirSync(path.dirname(abs)).filter((f) => re.test(f)).sort().map((f) => path.join(path.dirname(abs), f));
  } catch {
    return [];
  }
}

function collect(file: string, home: string, depth: number, out: Map<string, SshHostEntry>, resolveWith: SSHConfig[]): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const config = SSHConfig.parse(text);
  resolveWith.push(config);
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE) continue;
    const param = line.param.toLowerCase();
    if (param === 'include' && depth < MAX_INCLUDE_DEPTH) {
      for (const arg of values(line.value)) for (const f of includeFiles(arg, home)) collect(f, home, depth + 1, out, resolveWith);
      continue;
    }
    if (param !== 'host') continue;
    for (const alias of values(line.value)) {
      if (/[*?!]/.test(alias) || out.has(alias)) continue;
      out.set(alias, { alias, hostName: null, user: null, port: null, proxyJump: null });
    }
  }
}

/** The connectable Host aliases of `sshConfigFile` (cluster.sshConfigFile), in file order; [] when there is no file. */
export function listSshHosts(sshConfigFile: string, home = os.homedir()): SshHostEntry[] {
  const found = new Map<string, SshHostEntry>();
  const configs: SSHConfig[] = [];
  collect(expandHome(sshConfigFile, home), home, 0, found, configs);
  return [...found.values()].map((h) => {
    // What each alias resolves to, for the list: the first config that says anything wins.
    for (const c of configs) {
      const r = c.compute(h.alias);
      const hostName = first(r.HostName);
      const user = first(r.User);
      const port = Number(first(r.Port));
      const proxyJump = first(r.ProxyJump);
      h.hostName ??= hostName;
      h.user ??= user;
      h.port ??= Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
      h.proxyJump ??= proxyJump;
    }
    return h;
  });
}
