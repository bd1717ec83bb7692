/**
 * The setup wizard's live connection test, one stage at a time, so the window can show each as
 * it happens: DNS, TCP (and the server's SSH banner), the host key with its fingerprint for the
 * user to confirm, login (2FA prompts go through the core's PromptUser: the prompt window), SLURM
 * partitions, the remote working directory and its free space, and the tools on the login node.
 *
 * Every remote command is an argv array through the ClusterService; the probe that fetches the
 * host key never logs in (it refuses the key after reading it), and a key is only ever added to
 * known_hosts by trustHostKey() with the fingerprint the user saw.
 */
import { promises as dns } from 'node:dns';
import net from 'node:net';
import ssh2 from 'ssh2';
import type { ClusterService } from '../cluster/cluster-service.js';
import { addKnownHost, checkKnownHost, fingerprintSha256, keyTypeOfBlob } from '../cluster/known-hosts.js';
import { resolveSshTarget, type SshTarget } from '../cluster/ssh-target.js';
import type { Settings } from '../config/settings-types.js';
import { describeError, isRelayError, RelayError } from '../errors.js';

const { Client } = ssh2;

export const CONNECTION_STAGES = ['dns', 'tcp', 'hostkey', 'auth', 'slurm', 'remoteDir', 'tools'] as const;
export type ConnectionStage = (typeof CONNECTION_STAGES)[number];

export interface HostKeyInfo {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  knownHostsFile: string;
  verdict: 'match' | 'unknown' | 'changed';
}

export interface PartitionInfo {
  name: string;
  isDefault: boolean;
  available: boolean;
  timeLimit: string;
  nodes: number;
}

export interface ToolInfo {
  name: string;
  /** Where `command -v` found it on the login node; null when it is not on the PATH. */
  path: string | null;
}

export interface StageResult {
  stage: ConnectionStage;
  /** `confirm`: the user must decide (an unknown host key); `skipped`: not applicable here. */
  status: 'ok' | 'failed' | 'confirm' | 'skipped';
  /** One sentence; may quote the server (its banner, its errors): untrusted text. */
  message: string;
  fix: string | null;
  hostKey?: HostKeyInfo;
  partitions?: PartitionInfo[];
  remoteDir?: { path: string; freeBytes: number | null };
  tools?: ToolInfo[];
}

/** The host the user is about to save (see run()): replaces cluster.host, .user and .port. */
export interface ClusterCandidate {
  host: string;
  user?: string | undefined;
  port?: number | undefined;
}

/** Stages that may run against a candidate: they need no login, so no session is made for it. */
const CANDIDATE_STAGES: ReadonlySet<ConnectionStage> = new Set(['dns', 'tcp', 'hostkey']);

export interface ConnectionTestDeps {
  cluster: () => Settings['cluster'];
  service: () => ClusterService;
  timeoutMs?: number;
}

/** The tools the wizard looks for on the login node. A fixed script: nothing is interpolated into it. */
export const TOOL_NAMES = ['sbatch', 'squeue', 'sacct', 'scancel', 'sinfo', 'apptainer', 'singularity'] as const;
const TOOLS_SCRIPT = `for c in ${TOOL_NAMES.join(' ')}; do p=$(command -v "$c" 2>/dev/null) && printf '%s\\t%s\\n' "$c" "$p" || printf '%s\\t-\\n' "$c"; done`;
const REQUIRED_TOOLS = ['sbatch', 'squeue', 'sacct', 'scancel'];

function failed(stage: ConnectionStage, e: unknown): StageResult {
  if (isRelayError(e)) {
    const fix = e.fix ?? null;
    const message = fix && e.message.endsWith(` ${fix}`) ? e.message.slice(0, -fix.length - 1) : e.message;
    return { stage, status: 'failed', message, fix };
  }
  return { stage, status: 'failed', message: describeError(e), fix: null };
}

/** The hop the laptop connects to first: the first jump host, else the login node. */
function firstHop(t: SshTarget): { host: string; port: number; via: boolean } {
  const j = t.jumps[0];
  return j ? { host: j.host, port: j.port, via: true } : { host: t.host, port: t.port, via: false };
}

export class ConnectionTest {
  private readonly timeoutMs: number;

  constructor(private readonly deps: ConnectionTestDeps) {
    this.timeoutMs = deps.timeoutMs ?? 15_000;
  }

  private candidate: ClusterCandidate | null = null;

  private target(): SshTarget {
    const c = this.candidate;
    if (!c) return resolveSshTarget(this.deps.cluster());
    const { user: _user, port: _port, ...rest } = this.deps.cluster();
    return resolveSshTarget({ ...rest, host: c.host, ...(c.user ? { user: c.user } : {}), ...(c.port ? { port: c.port } : {}) });
  }

  /**
   * One stage. DNS, TCP and the host key may run against `candidate` (what the wizard is about to
   * save), so nothing connects in the background to a host whose key the user has not seen yet;
   * login and what follows run against the settings, through the core's one SSH session.
   */
  async run(stage: ConnectionStage, candidate: ClusterCandidate | null = null): Promise<StageResult> {
    if (candidate && !CANDIDATE_STAGES.has(stage)) {
      return { stage, status: 'failed', message: `The ${stage} stage runs against the saved settings, not a candidate host.`, fix: 'Save the host, then run it.' };
    }
    this.candidate = candidate;
    try {
      switch (stage) {
        case 'dns': return await this.dns();
        case 'tcp': return await this.tcp();
        case 'hostkey': return await this.hostKey();
        case 'auth': return await this.auth();
        case 'slurm': return await this.slurm();
        case 'remoteDir': return await this.remoteDir();
        case 'tools': return await this.tools();
      }
    } catch (e) {
      return failed(stage, e);
    }
  }

  private async dns(): Promise<StageResult> {
    const t = this.target();
    const hop = firstHop(t);
    const via = hop.via ? ` (the jump host; ${t.host} is resolved by it)` : '';
    if (net.isIP(hop.host)) return { stage: 'dns', status: 'ok', message: `${hop.host} is an IP address${via}: nothing to resolve.`, fix: null };
    try {
      const { address } = await dns.lookup(hop.host);
      return { stage: 'dns', status: 'ok', message: `${hop.host} resolves to ${address}${via}.`, fix: null };
    } catch (e) {
      return {
        stage: 'dns', status: 'failed', message: `${hop.host} could not be resolved (${(e as NodeJS.ErrnoException).code ?? describeError(e)}).`,
        fix: 'Check the host name (or the HostName of the alias in your SSH config), and your VPN if the cluster needs one.',
      };
    }
  }

  private tcp(): Promise<StageResult> {
    const hop = firstHop(this.target());
    const where = `${hop.host}:${hop.port}`;
    return new Promise((resolve) => {
      const started = Date.now();
      const sock = net.connect({ host: hop.host, port: hop.port });
      let connectedMs: number | null = null;
      let banner = '';
      const done = (r: StageResult) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(r);
      };
      const ok = () => done({ stage: 'tcp', status: 'ok', message: `${where} accepts connections (${connectedMs ?? '?'} ms)${banner ? `; the server says ${banner}` : ''}.`, fix: null });
      const timer = setTimeout(() => {
        if (connectedMs !== null) ok();
        else done({ stage: 'tcp', status: 'failed', message: `${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`, fix: 'Check the port, your VPN, and that the cluster is up; a firewall may drop the connection.' });
      }, this.timeoutMs);
      sock.on('connect', () => {
        connectedMs = Date.now() - started;
        // The SSH banner (RFC 4253 §4.2) comes first; wait for it briefly, it names the server.
        clearTimeout(timer);
        setTimeout(ok, 3000).unref();
      });
      sock.on('data', (d: Buffer) => {
        banner += d.toString('latin1');
        const line = /^SSH-[^\r\n]*/m.exec(banner)?.[0];
        if (line) {
          banner = line.slice(0, 120);
          ok();
        }
      });
      sock.on('error', (e: NodeJS.ErrnoException) => done({
        stage: 'tcp', status: 'failed', message: `${where} is not reachable (${e.code ?? e.message}).`,
        fix: 'Check the host and port (cluster.port, or Port in your SSH config), your VPN, and that the cluster is up.',
      }));
    });
  }

  /** Reads the server's host key without logging in. */
  private probeKey(host: string, port: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let key: Buffer | null = null;
      const finish = (e?: Error) => {
        clearTimeout(timer);
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.destroy();
        if (key) resolve(key);
        else reject(e ?? new RelayError('SSH_DISCONNECTED', `${host}:${port} closed the connection before showing its host key.`));
      };
      const timer = setTimeout(() => finish(new RelayError('SSH_TIMEOUT', `${host}:${port} did not show its host key within ${Math.round(this.timeoutMs / 1000)} s.`)), this.timeoutMs);
      client.on('error', (e) => finish(e));
      client.on('close', () => finish());
      client.on('ready', () => finish());
      client.connect({
        host, port, username: 'hpc-relay-hostkey-probe', readyTimeout: this.timeoutMs,
        hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
          key = Buffer.from(blob);
          // Refused on purpose: this connection only looks at the key, it never logs in.
          verify(false);
        },
      });
    });
  }

  private async inspectKey(): Promise<{ info: HostKeyInfo; blob: Buffer; viaJump: boolean }> {
    const t = this.target();
    const hop = firstHop(t);
    const blob = await this.probeKey(hop.host, hop.port);
    const keyType = keyTypeOfBlob(blob);
    const verdict = checkKnownHost(t.knownHostsFile, hop.host, hop.port, keyType, blob);
    return {
      info: { host: hop.host, port: hop.port, keyType, fingerprint: fingerprintSha256(blob), knownHostsFile: t.knownHostsFile, verdict: verdict.status },
      blob,
      viaJump: hop.via,
    };
  }

  private async hostKey(): Promise<StageResult> {
    const { info, viaJump } = await this.inspectKey();
    const who = `${info.host}:${info.port}${viaJump ? ' (the jump host)' : ''}`;
    const later = viaJump ? ' The login node’s own key is checked when logging in (you will be asked if it is new).' : '';
    if (info.verdict === 'match') return { stage: 'hostkey', status: 'ok', message: `The host key of ${who} (${info.keyType} ${info.fingerprint}) matches ${info.knownHostsFile}.${later}`, fix: null, hostKey: info };
    if (info.verdict === 'changed') {
      return {
        stage: 'hostkey', status: 'failed', hostKey: info,
        message: `The host key of ${who} has CHANGED (now ${info.keyType} ${info.fingerprint}); ${info.knownHostsFile} holds a different one. Someone may be intercepting the connection, or the server was reinstalled.`,
        fix: `Ask your cluster admins for the new fingerprint; only if it matches, remove the old entry from ${info.knownHostsFile} and test again.`,
      };
    }
    return {
      stage: 'hostkey', status: 'confirm', hostKey: info,
      message: `${who} is new: its ${info.keyType} key has the fingerprint ${info.fingerprint}.`,
      fix: 'Compare the fingerprint with the one your cluster documents (or ask its admins); trust it only if they match.',
    };
  }

  /**
   * Adds the server's key to known_hosts, but only if it still has the fingerprint the user
   * confirmed: a key that changed between showing and trusting is refused.
   */
  async trustHostKey(fingerprint: string, candidate: ClusterCandidate | null = null): Promise<StageResult> {
    this.candidate = candidate;
    try {
      const { info, blob } = await this.inspectKey();
      if (info.fingerprint !== fingerprint) {
        return {
          stage: 'hostkey', status: 'failed', hostKey: info,
          message: `The server now shows ${info.fingerprint}, not the ${fingerprint} you confirmed; nothing was trusted.`,
          fix: 'Run the test again and compare the new fingerprint carefully.',
        };
      }
      if (info.verdict === 'changed') return { ...(await this.hostKey()), stage: 'hostkey' };
      if (info.verdict === 'unknown') addKnownHost(info.knownHostsFile, info.host, info.port, info.keyType, blob);
      return { stage: 'hostkey', status: 'ok', hostKey: { ...info, verdict: 'match' }, message: `Trusted ${info.keyType} ${info.fingerprint} for ${info.host}:${info.port} (added to ${info.knownHostsFile}).`, fix: null };
    } catch (e) {
      return failed('hostkey', e);
    }
  }

  private async auth(): Promise<StageResult> {
    const t = this.target();
    const service = this.deps.service();
    await service.ssh.connect();
    const jumps = t.jumps.length ? ` through ${t.jumps.map((j) => `${j.user}@${j.host}:${j.port}`).join(', ')}` : '';
    return { stage: 'auth', status: 'ok', message: `Logged in to ${t.host}:${t.port} as ${t.user}${jumps}.`, fix: null };
  }

  private async slurm(): Promise<StageResult> {
    const parts = await this.deps.service().partitions();
    if (parts.length === 0) return { stage: 'slurm', status: 'failed', message: 'sinfo lists no partitions.', fix: 'Ask your cluster admins which partitions you may use.', partitions: [] };
    const names = parts.map((p) => (p.isDefault ? `${p.name} (default)` : p.name)).join(', ');
    return { stage: 'slurm', status: 'ok', message: `sinfo lists ${parts.length} partition${parts.length === 1 ? '' : 's'}: ${names}.`, fix: null, partitions: parts.map((p) => ({ ...p })) };
  }

  private async remoteDir(): Promise<StageResult> {
    const service = this.deps.service();
    const dir = await service.remoteDir();
    const r = await service.exec(['df', '-Pk', '--', dir], { timeoutMs: 20_000, idempotent: true });
    const cols = r.code === 0 ? r.stdout.trim().split('\n').at(-1)?.split(/\s+/) : undefined;
    const availKb = Number(cols?.[3]);
    const freeBytes = Number.isFinite(availKb) ? availKb * 1024 : null;
    const free = freeBytes === null ? '' : `; ${formatBytes(freeBytes)} free on its file system`;
    return { stage: 'remoteDir', status: 'ok', message: `${dir} exists and is writable${free}.`, fix: null, remoteDir: { path: dir, freeBytes } };
  }

  private async tools(): Promise<StageResult> {
    const out = await this.deps.service().run(['sh', '-c', TOOLS_SCRIPT], { timeoutMs: 20_000, idempotent: true });
    const found = new Map<string, string | null>();
    for (const line of out.split('\n')) {
      const [name, where] = line.split('\t');
      if (name && where !== undefined) found.set(name, where === '-' ? null : where);
    }
    const tools: ToolInfo[] = TOOL_NAMES.map((name) => ({ name, path: found.get(name) ?? null }));
    const missing = REQUIRED_TOOLS.filter((n) => !found.get(n));
    const container = tools.find((x) => (x.name === 'apptainer' || x.name === 'singularity') && x.path);
    const containerNote = container ? ` Containers: ${container.name}.` : ' No apptainer or singularity: templates run on the host’s python.';
    if (missing.length > 0) {
      return { stage: 'tools', status: 'failed', tools, message: `Not on the login node's PATH: ${missing.join(', ')}.${containerNote}`, fix: 'Load SLURM in your shell start-up file (module load slurm), or ask your admins where the SLURM commands live.' };
    }
    return { stage: 'tools', status: 'ok', tools, message: `SLURM commands found (${REQUIRED_TOOLS.join(', ')}).${containerNote}`, fix: null };
  }
}

function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
