import { EventEmitter } from 'node:events';
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';

// ssh2 is CommonJS: its named exports are not visible to Node's ESM loader.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;
import { RelayError } from '../errors.js';
import type { Logger, PromptUser } from '../ports.js';
import { commandLine } from './shell-quote.js';
import { addKnownHost, checkKnownHost, fingerprintSha256, keyTypeOfBlob } from './known-hosts.js';
import { createAuthHandler, type PassphraseVault } from './ssh-auth.js';
import { Semaphore } from './semaphore.js';
import type { JumpHost, SshTarget } from './ssh-target.js';

export type SessionState =
  | { kind: 'disconnected'; reason?: string }
  | { kind: 'connecting' }
  | { kind: 'prompting'; message: string }
  | { kind: 'connected' };

export interface ExecOptions {
  timeoutMs?: number;
  /** Bytes kept per stream; beyond it output is cut and marked. */
  maxOutputBytes?: number;
  stdin?: string | Buffer;
  signal?: AbortSignal;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  truncated: boolean;
}

/** The server answered a channel open with a refusal (SSH_MSG_CHANNEL_OPEN_FAILURE). */
class ChannelRefused extends RelayError {
  constructor(message: string, cause: Error) {
    super('SSH_CHANNEL_FAILED', message, { fix: 'The server limits sessions per connection (MaxSessions); try again.', cause });
  }
}

export const TRUNCATION_MARKER = '\n[… output truncated by HPC Relay …]\n';

export interface SshSessionDeps {
  target: SshTarget;
  prompt: PromptUser;
  vault: PassphraseVault;
  logger: Logger;
  agentSocket?: string | undefined;
  /** Concurrent channels on the one connection (OpenSSH's MaxSessions defaults to 10). */
  maxChannels?: number;
  readyTimeoutMs?: number;
}

function mapConnectError(e: Error & { code?: string; level?: string }, where: string, tried: string[]): RelayError {
  const code = e.code ?? '';
  if (e instanceof RelayError) return e;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RelayError('SSH_DNS', `The name ${where} could not be resolved.`, { fix: 'Check cluster.host and your network or VPN.', cause: e });
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET') return new RelayError('SSH_UNREACHABLE', `${where} is not reachable (${code}).`, { fix: 'Check the host, the port, your VPN, and that the cluster is up.', cause: e });
  if (e.level === 'client-authentication') return new RelayError('SSH_AUTH_FAILED', `${where} refused every login method tried (${tried.join(', ') || 'none available'}).`, { fix: 'Check cluster.user and cluster.identityFile, load your key into ssh-agent, or run `hpc-relay doctor`.', cause: e });
  if (e.level === 'client-timeout' || /timed out/i.test(e.message)) return new RelayError('SSH_TIMEOUT', `Connecting to ${where} timed out.`, { fix: 'Check your network or VPN; a 2FA prompt may have gone unanswered.', cause: e });
  return new RelayError('SSH_DISCONNECTED', `The SSH connection to ${where} failed: ${e.message}.`, { fix: 'Run `hpc-relay doctor` for details.', cause: e });
}

/**
 * One SSH connection to the login node (through any jump hosts) that every remote command shares
 * as an exec channel. Host keys are checked against known_hosts; an unknown key needs the user's
 * explicit yes, a changed key is refused. The agent is never forwarded.
 */
export class SshSession extends EventEmitter<{ state: [SessionState] }> {
  private clients: Client[] = [];
  private connecting: Promise<Client> | null = null;
  private readonly channels: Semaphore;
  private stateValue: SessionState = { kind: 'disconnected' };
  /** Handshakes completed, for benchmarks and tests ("no new handshake per command"). */
  handshakes = 0;

  constructor(private readonly deps: SshSessionDeps) {
    super();
    this.channels = new Semaphore(deps.maxChannels ?? 8);
  }

  get state(): SessionState {
    return this.stateValue;
  }

  private setState(s: SessionState): void {
    this.stateValue = s;
    this.emit('state', s);
  }

  get connected(): boolean {
    return this.stateValue.kind === 'connected';
  }

  /** Connects if needed; concurrent callers share one attempt. */
  async connect(): Promise<Client> {
    const live = this.clients.at(-1);
    if (live && this.connected) return live;
    this.connecting ??= this.open().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private async open(): Promise<Client> {
    this.teardown();
    this.setState({ kind: 'connecting' });
    const { target } = this.deps;
    try {
      let sock: ConnectConfig['sock'];
      for (const hop of target.jumps) {
        const c = await this.handshake(hop, sock);
        sock = await this.forward(c, target.jumps[target.jumps.indexOf(hop) + 1] ?? target);
      }
      const client = await this.handshake(target, sock);
      this.setState({ kind: 'connected' });
      return client;
    } catch (e) {
      this.teardown();
      const err = e as Error;
      this.setState({ kind: 'disconnected', reason: err.message });
      throw err;
    }
  }

  private forward(via: Client, to: { host: string; port: number }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => (err ? reject(mapConnectError(err, `${to.host}:${to.port} (through the jump host)`, [])) : resolve(stream)));
    });
  }

  private handshake(hop: JumpHost | SshTarget, sock: ConnectConfig['sock']): Promise<Client> {
    const { deps } = this;
    const where = `${hop.host}:${hop.port}`;
    const alias = 'alias' in hop ? hop.alias : hop.host;
    const { handler, tried } = createAuthHandler({
      alias,
      user: hop.user,
      identityFiles: deps.target.identityFiles,
      agentSocket: deps.agentSocket,
      prompt: { ask: (req) => { this.setState({ kind: 'prompting', message: req.title }); return deps.prompt.ask(req); } },
      vault: deps.vault,
    });
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyError: RelayError | null = null;
      let settled = false;
      client.on('ready', () => {
        settled = true;
        this.handshakes++;
        this.clients.push(client);
        client.on('close', () => this.onClose(client));
        resolve(client);
      });
      client.on('error', (e) => {
        if (settled) {
          deps.logger.warn('ssh connection error', { where, error: e.message });
          return;
        }
        settled = true;
        reject(hostKeyError ?? mapConnectError(e, where, tried));
      });
      client.connect({
        host: hop.host,
        port: hop.port,
        username: hop.user,
        ...(sock ? { sock } : {}),
        readyTimeout: deps.readyTimeoutMs ?? 60_000,
        keepaliveInterval: deps.target.keepaliveSeconds * 1000,
        keepaliveCountMax: 3,
        authHandler: handler,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          this.verifyHostKey(hop.host, hop.port, key).then(
            () => verify(true),
            (e: RelayError) => { hostKeyError = e; verify(false); },
          );
        },
      });
    });
  }

  private async verifyHostKey(host: string, port: number, key: Buffer): Promise<void> {
    const file = this.deps.target.knownHostsFile;
    const type = keyTypeOfBlob(key);
    const fp = fingerprintSha256(key);
    const verdict = checkKnownHost(file, host, port, type, key);
    if (verdict.status === 'match') return;
    if (verdict.status === 'changed') {
      throw new RelayError('SSH_HOSTKEY_CHANGED', `The host key of ${host}:${port} has CHANGED (now ${type} ${fp}; ${file} line ${verdict.line} says otherwise). Someone may be intercepting the connection, or the server was reinstalled; HPC Relay refuses to connect.`, {
        fix: `Ask your cluster admins for the new fingerprint; if it matches, remove line ${verdict.line} from ${file} and connect again.`,
      });
    }
    const answer = await this.deps.prompt.ask({
      kind: 'confirm',
      title: 'Unknown host key',
      message: `The authenticity of ${host}:${port} can't be established.\n${type} key fingerprint is ${fp}.\nTrust it and add it to ${file}?`,
    });
    if (answer === null) {
      throw new RelayError('SSH_HOSTKEY_UNKNOWN', `The host key of ${host}:${port} (${fp}) is not in ${file} and was not confirmed.`, {
        fix: 'Compare the fingerprint with the one your cluster documents, then connect again and confirm it.',
      });
    }
    addKnownHost(file, host, port, type, key);
  }

  private onClose(client: Client): void {
    if (!this.clients.includes(client)) return;
    this.teardown();
    this.setState({ kind: 'disconnected', reason: 'the connection closed' });
  }

  private teardown(): void {
    const clients = this.clients;
    this.clients = [];
    for (const c of clients.reverse()) c.end();
  }

  /** Runs argv on the login node as one exec channel of the shared connection. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const line = commandLine(argv);
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      const release = await this.channels.acquire();
      try {
        return await this.run(client, line, opts);
      } catch (e) {
        // The server refused a new channel: its MaxSessions is lower than ours, or it is still
        // releasing closed ones. Use fewer channels from now on and try again shortly.
        if (!(e instanceof ChannelRefused) || attempt >= 6) throw e;
        this.channels.shrinkTo(Math.max(1, this.channels.inUse - 1));
        this.deps.logger.debug('ssh channel refused, retrying', { attempt, limit: this.channels.limit });
      } finally {
        release();
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }

  private run(client: Client, line: string, opts: ExecOptions): Promise<ExecResult> {
    const cap = opts.maxOutputBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      client.exec(line, (err, ch) => {
        if (err) {
          const refused = (err as Error & { reason?: number }).reason !== undefined;
          const msg = `Could not open a channel on the SSH connection: ${err.message}.`;
          return reject(refused ? new ChannelRefused(msg, err) : new RelayError('SSH_CHANNEL_FAILED', msg, { fix: 'The connection may have dropped; it will reconnect on the next command.', cause: err }));
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let outLen = 0;
        let errLen = 0;
        let truncated = false;
        let code: number | null = null;
        let signal: string | null = null;
        let timer: NodeJS.Timeout | undefined;
        const take = (buf: Buffer, into: Buffer[], len: number): number => {
          if (len >= cap) { truncated = true; return len; }
          const part = buf.length + len > cap ? buf.subarray(0, cap - len) : buf;
          if (part.length < buf.length) truncated = true;
          into.push(part);
          return len + part.length;
        };
        const abort = (why: RelayError) => {
          ch.signal('KILL');
          ch.close();
          reject(why);
        };
        const limit = opts.timeoutMs;
        if (limit) timer = setTimeout(() => abort(new RelayError('REMOTE_COMMAND_FAILED', `The remote command took longer than ${Math.round(limit / 1000)} s and was stopped.`)), limit);
        opts.signal?.addEventListener('abort', () => abort(new RelayError('REMOTE_COMMAND_FAILED', 'The remote command was cancelled.')), { once: true });
        ch.on('data', (d: Buffer) => { outLen = take(d, out, outLen); });
        ch.stderr.on('data', (d: Buffer) => { errLen = take(d, errOut, errLen); });
        ch.on('exit', (c: number | null, s?: string) => { code = c; signal = s ?? null; });
        ch.on('close', () => {
          clearTimeout(timer);
          const mark = (b: Buffer[], len: number) => Buffer.concat(b).toString('utf8') + (len >= cap && truncated ? TRUNCATION_MARKER : '');
          resolve({ stdout: mark(out, outLen), stderr: mark(errOut, errLen), code, signal, truncated });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  close(): void {
    this.teardown();
    this.setState({ kind: 'disconnected', reason: 'closed by HPC Relay' });
  }
}
