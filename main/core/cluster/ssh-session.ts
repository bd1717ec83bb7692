import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import ssh2, { type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';

// ssh2 is CommonJS: its named exports are not visible to Node's ESM loader.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;
import { RelayError } from '../errors.js';
import type { Logger, PromptRequest, PromptUser } from '../ports.js';
import { commandLine } from './shell-quote.js';
import { addKnownHost, checkKnownHost, fingerprintSha256, keyTypeOfBlob } from './known-hosts.js';
import { DEFAULT_PROMPT_TIMEOUT_MS, createAuthHandler, type PassphraseVault } from './ssh-auth.js';
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
  /**
   * The command may safely run twice (squeue, sacct, cat, mkdir -p). Only such a command is run
   * again, once, when the connection drops while it runs. Default false: a dropped `sbatch` ends
   * in SSH_COMMAND_INTERRUPTED and is never re-run blindly (the job layer reconciles instead).
   */
  idempotent?: boolean;
  /** Streaming (tails): every chunk as it arrives. Chunks are still collected, up to the cap. */
  onData?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  truncated: boolean;
}

export interface ReadFileOptions {
  /** Byte offset to start at (for tails: the previous call's nextOffset). Default 0. */
  offset?: number;
  /** At most this many bytes are read. Default 1 MiB. */
  maxBytes?: number;
}

export interface ReadFileResult {
  data: Buffer;
  /** The file's size when it was opened. Smaller than `offset` when the file was truncated. */
  size: number;
  /** Where the next read should start. */
  nextOffset: number;
  /** Everything up to `size` has been read. */
  eof: boolean;
}

/** The server answered a channel open with a refusal (SSH_MSG_CHANNEL_OPEN_FAILURE). */
class ChannelRefused extends RelayError {
  constructor(message: string, cause: Error) {
    super('SSH_CHANNEL_FAILED', message, { fix: 'The server limits sessions per connection (MaxSessions); try again.', cause });
  }
}

/** The connection was gone before the command could be sent: it certainly did not run. */
class NotStarted extends Error {}

/** The connection dropped while the command was (or may have been) running: its outcome is unknown. */
class Interrupted extends Error {}

export const TRUNCATION_MARKER = '\n[… output truncated by HPC Relay …]\n';

export interface SshSessionDeps {
  target: SshTarget;
  prompt: PromptUser;
  vault: PassphraseVault;
  logger: Logger;
  agentSocket?: string | undefined;
  /** Concurrent exec channels on the one connection (OpenSSH's MaxSessions defaults to 10; SFTP takes one more). */
  maxChannels?: number;
  /** How long the network may stall while connecting, not counting time spent waiting for the user. */
  readyTimeoutMs?: number;
  /** How long a login prompt (2FA, passphrase, password, unknown host key) waits for an answer. */
  promptTimeoutMs?: number;
}

function mapConnectError(e: Error & { code?: string | number; level?: string }, where: string, tried: string[]): RelayError {
  const code = typeof e.code === 'string' ? e.code : '';
  if (e instanceof RelayError) return e;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RelayError('SSH_DNS', `The name ${where} could not be resolved.`, { fix: 'Check cluster.host and your network or VPN.', cause: e });
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET') return new RelayError('SSH_UNREACHABLE', `${where} is not reachable (${code}).`, { fix: 'Check the host, the port, your VPN, and that the cluster is up.', cause: e });
  if (e.level === 'client-authentication') return new RelayError('SSH_AUTH_FAILED', `${where} refused every login method tried (${tried.join(', ') || 'none available'}).`, { fix: 'Check cluster.user and cluster.identityFile, load your key into ssh-agent, or run `hpc-relay doctor`.', cause: e });
  if (e.level === 'client-timeout' || /timed out/i.test(e.message)) return new RelayError('SSH_TIMEOUT', `Connecting to ${where} timed out.`, { fix: 'Check your network or VPN; a 2FA prompt may have gone unanswered.', cause: e });
  return new RelayError('SSH_DISCONNECTED', `The SSH connection to ${where} failed: ${e.message}.`, { fix: 'Run `hpc-relay doctor` for details.', cause: e });
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that mean something to the user. */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

function mapSftpError(e: unknown, what: string, remotePath: string): RelayError {
  if (e instanceof RelayError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as Error & { code?: unknown }).code;
  if (code === SFTP_NO_SUCH_FILE) return new RelayError('REMOTE_FILE_NOT_FOUND', `${what} ${remotePath} on the cluster failed: no such file or directory.`, { fix: 'Check the path; the remote directory may need creating first (see `hpc-relay doctor`).', cause: err });
  if (code === SFTP_PERMISSION_DENIED) return new RelayError('REMOTE_FILE_FAILED', `${what} ${remotePath} on the cluster failed: permission denied.`, { fix: 'Use a path your cluster user can write, for example under cluster.remoteDir.', cause: err });
  return new RelayError('REMOTE_FILE_FAILED', `${what} ${remotePath} on the cluster failed: ${err.message}.`, { cause: err });
}

/** Promisified SFTP calls (ssh2's API is callback-only). */
const sftpOps = {
  open: (s: SFTPWrapper, p: string, flags: 'r' | 'wx', mode?: number) => new Promise<Buffer>((resolve, reject) => {
    const cb = (err: Error | undefined, h: Buffer) => (err ? reject(err) : resolve(h));
    if (mode === undefined) s.open(p, flags, cb);
    else s.open(p, flags, { mode }, cb);
  }),
  close: (s: SFTPWrapper, h: Buffer) => new Promise<void>((resolve, reject) => s.close(h, (err?: Error | null) => (err ? reject(err) : resolve()))),
  write: (s: SFTPWrapper, h: Buffer, buf: Buffer, position: number) => new Promise<void>((resolve, reject) => s.write(h, buf, 0, buf.length, position, (err?: Error | null) => (err ? reject(err) : resolve()))),
  read: (s: SFTPWrapper, h: Buffer, buf: Buffer, off: number, len: number, position: number) => new Promise<number>((resolve, reject) => s.read(h, buf, off, len, position, (err, n) => (err ? reject(err) : resolve(n)))),
  fstat: (s: SFTPWrapper, h: Buffer) => new Promise<number>((resolve, reject) => s.fstat(h, (err, st) => (err ? reject(err) : resolve(st.size)))),
  fchmod: (s: SFTPWrapper, h: Buffer, mode: number) => new Promise<void>((resolve, reject) => s.fchmod(h, mode, (err?: Error | null) => (err ? reject(err) : resolve()))),
  unlink: (s: SFTPWrapper, p: string) => new Promise<void>((resolve, reject) => s.unlink(p, (err?: Error | null) => (err ? reject(err) : resolve()))),
  rename: (s: SFTPWrapper, from: string, to: string) => new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    // posix-rename@openssh.com replaces an existing file atomically; plain SFTP rename refuses to.
    try {
      s.ext_openssh_rename(from, to, cb);
    } catch {
      s.rename(from, to, cb);
    }
  }),
};

const SFTP_CHUNK = 32 * 1024;

/**
 * One SSH connection to the login node (through any jump hosts) that every remote command shares
 * as an exec channel, and SFTP as one more. Host keys are checked against known_hosts; an unknown
 * key needs the user's explicit yes, a changed key is refused. The agent is never forwarded.
 */
export class SshSession extends EventEmitter<{ state: [SessionState] }> {
  private clients: Client[] = [];
  private connecting: Promise<Client> | null = null;
  private readonly channels: Semaphore;
  private stateValue: SessionState = { kind: 'disconnected' };
  private readonly sftps = new WeakMap<Client, Promise<SFTPWrapper>>();
  /** The last error each live client reported, to say why it closed. */
  private readonly lastErrors = new WeakMap<Client, string>();
  /** Commands running on each client, told when it closes (one 'close' listener per client). */
  private readonly dropWatchers = new WeakMap<Client, Set<() => void>>();
  /** Passphrases typed while this process runs (memory only): a reconnect does not ask again. */
  private readonly passphrases = new Map<string, string>();
  /** Handshakes completed, for benchmarks and tests ("no new handshake per command"). */
  handshakes = 0;

  constructor(private readonly deps: SshSessionDeps) {
    super();
    this.channels = new Semaphore(deps.maxChannels ?? 8);
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get target(): SshTarget {
    return this.deps.target;
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
    const hops: (JumpHost | SshTarget)[] = [...target.jumps, target];
    try {
      let sock: ConnectConfig['sock'];
      let client: Client | undefined;
      for (const [i, hop] of hops.entries()) {
        client = await this.handshake(hop, sock);
        const next = hops[i + 1];
        if (next) sock = await this.forward(client, hop, next);
      }
      if (!client) throw new RelayError('SSH_NOT_CONFIGURED', 'No host to connect to.');
      this.setState({ kind: 'connected' });
      return client;
    } catch (e) {
      this.teardown();
      const err = e as Error;
      this.setState({ kind: 'disconnected', reason: err.message });
      throw err;
    }
  }

  private forward(via: Client, from: { host: string; port: number }, to: { host: string; port: number }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => {
        if (!err) return resolve(stream);
        reject(new RelayError('SSH_UNREACHABLE', `The jump host ${from.host}:${from.port} could not open a connection to ${to.host}:${to.port} (${err.message}).`, {
          fix: 'Check the login node address as the jump host sees it, and that the jump host allows forwarding (AllowTcpForwarding, PermitOpen).',
          cause: err,
        }));
      });
    });
  }

  /** Asks the user with a deadline; null on cancel, 'timeout' when nobody answered in time. */
  private askWithin(ask: (req: PromptRequest) => Promise<string | null>, req: PromptRequest): Promise<string | null | 'timeout'> {
    const ms = this.deps.promptTimeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS;
    const stop = new AbortController();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { stop.abort(); resolve('timeout'); }, ms);
      ask({ ...req, signal: req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal }).then((a) => { clearTimeout(timer); resolve(a); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
    });
  }

  private handshake(hop: JumpHost | SshTarget, sock: ConnectConfig['sock']): Promise<Client> {
    const { deps } = this;
    const where = `${hop.host}:${hop.port}`;
    const alias = 'alias' in hop ? hop.alias : hop.host;
    const readyMs = deps.readyTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyError: RelayError | null = null;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let prompting = 0;
      // Closes any question still open when this login fails (the server hung up, the deadline passed).
      const loginOver = new AbortController();

      const fail = (e: RelayError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        loginOver.abort();
        client.destroy();
        reject(e);
      };
      // ssh2's readyTimeout would also run while the user looks for their phone: keep our own
      // deadline for the network, paused while a prompt is open and restarted after each answer.
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(new RelayError('SSH_TIMEOUT', `Connecting to ${where} timed out (no progress for ${Math.max(1, Math.round(readyMs / 1000))} s).`, { fix: 'Check your network or VPN, and that the host and port are right.' })), readyMs);
      };
      // Every question during login (host key, passphrase, 2FA, password) goes through here.
      const prompt: PromptUser = {
        ask: async (req) => {
          if (prompting++ === 0) clearTimeout(timer);
          // The question, never the answer, is logged.
          deps.logger.info('ssh login asks the user', { where, title: req.title, kind: req.kind });
          this.setState({ kind: 'prompting', message: req.title });
          try {
            return await deps.prompt.ask({ ...req, signal: req.signal ? AbortSignal.any([req.signal, loginOver.signal]) : loginOver.signal });
          } finally {
            if (--prompting === 0 && !settled) {
              arm();
              this.setState({ kind: 'connecting' });
            }
          }
        },
      };
      const plan = createAuthHandler({
        alias,
        // A jump hop that logs in with the target's keys shares the target's stored passphrase.
        vaultName: hop.identityFiles && hop !== deps.target ? hop.host : deps.target.alias,
        user: hop.user,
        identityFiles: hop.identityFiles ?? deps.target.identityFiles,
        agentSocket: deps.agentSocket,
        prompt,
        vault: deps.vault,
        remembered: this.passphrases,
        promptTimeoutMs: deps.promptTimeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS,
        onFatal: fail,
        onNote: (msg, fields) => deps.logger.info(msg, { where, ...fields }),
      });

      client.on('ready', () => {
        if (settled) {
          client.end();
          return;
        }
        settled = true;
        clearTimeout(timer);
        this.handshakes++;
        this.clients.push(client);
        deps.logger.info('ssh logged in', { where, user: hop.user, tried: plan.tried });
        resolve(client);
      });
      client.on('error', (e: Error & { level?: string }) => {
        if (settled) {
          this.lastErrors.set(client, e.message);
          deps.logger.warn('ssh connection error', { where, error: e.message });
          return;
        }
        // A stale SSH_AUTH_SOCK or a key the agent cannot use: ssh2 reports it and goes on.
        if (e.level === 'agent') {
          deps.logger.info('ssh-agent could not be used', { where, error: e.message });
          return;
        }
        // A key that could not sign: ssh2 goes on with the next method; only the end is fatal.
        if (e.level === 'client-authentication' && !plan.exhausted) {
          deps.logger.info('an authentication method failed', { where, error: e.message });
          return;
        }
        fail(hostKeyError ?? mapConnectError(e, where, plan.tried));
      });
      client.on('close', () => {
        if (!settled) {
          fail(hostKeyError ?? new RelayError('SSH_DISCONNECTED', `${where} closed the connection during login${plan.tried.length ? ` (tried: ${plan.tried.join(', ')})` : ''}.`, { fix: 'Run `hpc-relay doctor`; the server may limit logins (MaxStartups, LoginGraceTime).' }));
          return;
        }
        this.onClose(client);
        for (const watcher of [...(this.dropWatchers.get(client) ?? [])]) watcher();
        this.dropWatchers.delete(client);
      });
      arm();
      client.connect({
        host: hop.host,
        port: hop.port,
        username: hop.user,
        ...(sock ? { sock } : {}),
        readyTimeout: 0,
        keepaliveInterval: deps.target.keepaliveSeconds * 1000,
        keepaliveCountMax: 3,
        authHandler: plan.handler,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          this.verifyHostKey(hop.host, hop.port, key, prompt).then(
            () => verify(true),
            (e: RelayError) => { hostKeyError = e; verify(false); },
          );
        },
      });
    });
  }

  private async verifyHostKey(host: string, port: number, key: Buffer, prompt: PromptUser): Promise<void> {
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
    const answer = await this.askWithin((req) => prompt.ask(req), {
      kind: 'confirm',
      title: 'Unknown host key',
      message: `The authenticity of ${host}:${port} can't be established.\n${type} key fingerprint is ${fp}.\nTrust it and add it to ${file}?`,
    });
    if (answer === null || answer === 'timeout') {
      throw new RelayError('SSH_HOSTKEY_UNKNOWN', `The host key of ${host}:${port} (${fp}) is not in ${file} and was not confirmed${answer === 'timeout' ? ' (no answer in time)' : ''}.`, {
        fix: 'Compare the fingerprint with the one your cluster documents, then connect again and confirm it.',
      });
    }
    addKnownHost(file, host, port, type, key);
  }

  private onClose(client: Client): void {
    if (!this.clients.includes(client)) return;
    const why = this.lastErrors.get(client);
    this.teardown();
    this.setState({ kind: 'disconnected', reason: why ? `the connection was lost: ${why}` : 'the connection closed' });
  }

  private teardown(): void {
    const clients = this.clients;
    this.clients = [];
    for (const c of clients.reverse()) {
      c.end();
      // A dead link never acknowledges the goodbye: do not keep its socket around waiting.
      setTimeout(() => c.destroy(), 2000).unref();
    }
  }

  /**
   * Runs argv on the login node as one exec channel of the shared connection. A command whose
   * connection was gone before it started is re-run after reconnecting; one interrupted while
   * running is re-run only when `idempotent` is set.
   */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const line = commandLine(argv);
    let reconnects = 0;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new RelayError('REMOTE_COMMAND_FAILED', 'The remote command was cancelled.');
      const client = await this.connect();
      const release = await this.channels.acquire();
      let pause = 0;
      try {
        return await this.run(client, line, opts);
      } catch (e) {
        if (e instanceof ChannelRefused && attempt < 6) {
          // The server refused a new channel: its MaxSessions is lower than ours, or it is still
          // releasing closed ones. Use fewer channels from now on and try again shortly.
          this.channels.shrinkTo(Math.max(1, this.channels.inUse - 1));
          this.deps.logger.debug('ssh channel refused, retrying', { attempt, limit: this.channels.limit });
          pause = 50 * 2 ** attempt;
        } else if (e instanceof NotStarted && reconnects < 2) {
          reconnects++;
          this.dropClient(client);
          this.deps.logger.info('ssh connection was gone before the command started; reconnecting', { program: argv[0] });
        } else if (e instanceof Interrupted && opts.idempotent && reconnects < 1) {
          reconnects++;
          this.deps.logger.info('ssh connection dropped during an idempotent command; running it again', { program: argv[0] });
        } else if (e instanceof Interrupted) {
          throw opts.idempotent
            ? new RelayError('SSH_DISCONNECTED', `The connection to ${this.deps.target.alias} dropped twice while \`${argv[0]}\` ran.`, { fix: 'Check your network or VPN; HPC Relay reconnects by itself.', cause: e })
            : new RelayError('SSH_COMMAND_INTERRUPTED', `The connection to ${this.deps.target.alias} dropped while \`${argv[0]}\` was running: it may or may not have finished, so HPC Relay did not run it again.`, {
              fix: 'Check on the cluster what it did (for a job submission: squeue or sacct) before trying again.',
              cause: e,
            });
        } else {
          throw e;
        }
      } finally {
        release();
      }
      if (pause) await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** A client that turned out dead before 'close' arrived: forget it so connect() opens a new one. */
  private dropClient(client: Client): void {
    if (!this.clients.includes(client)) return;
    this.lastErrors.set(client, this.lastErrors.get(client) ?? 'the socket was no longer writable');
    this.onClose(client);
  }

  private run(client: Client, line: string, opts: ExecOptions): Promise<ExecResult> {
    const cap = opts.maxOutputBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      let done = false;
      let exited = false;
      let code: number | null = null;
      let signal: string | null = null;
      let channel: ClientChannel | null = null;
      let timer: NodeJS.Timeout | undefined;
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let truncated = false;

      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.dropWatchers.get(client)?.delete(onDrop);
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const result = (): ExecResult => {
        const mark = (b: Buffer[], len: number) => Buffer.concat(b).toString('utf8') + (len >= cap && truncated ? TRUNCATION_MARKER : '');
        return { stdout: mark(out, outLen), stderr: mark(errOut, errLen), code, signal, truncated };
      };
      // The link went away under the command. If its exit status already came, that is the result.
      const onDrop = () => finish(() => (exited ? resolve(result()) : reject(new Interrupted('the connection closed while the command ran'))));
      const abort = (why: RelayError) => finish(() => {
        channel?.signal('KILL');
        channel?.close();
        reject(why);
      });
      const onAbort = () => abort(new RelayError('REMOTE_COMMAND_FAILED', 'The remote command was cancelled.'));
      const limit = opts.timeoutMs;
      if (limit) timer = setTimeout(() => abort(new RelayError('REMOTE_COMMAND_FAILED', `The remote command took longer than ${Math.round(limit / 1000)} s and was stopped.`)), limit);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let watchers = this.dropWatchers.get(client);
      if (!watchers) this.dropWatchers.set(client, (watchers = new Set()));
      watchers.add(onDrop);

      const take = (buf: Buffer, into: Buffer[], len: number): number => {
        if (len >= cap) { truncated = true; return len; }
        const part = buf.length + len > cap ? buf.subarray(0, cap - len) : buf;
        if (part.length < buf.length) truncated = true;
        into.push(part);
        return len + part.length;
      };

      try {
        client.exec(line, (err, ch) => {
          if (err) {
            const e = err as Error & { reason?: number };
            const msg = `Could not open a channel on the SSH connection: ${e.message}.`;
            // A refusal (with a reason code) means the command never started; anything else may be
            // the link dropping after the exec request left, so its outcome is unknown.
            if (e.reason !== undefined) return finish(() => reject(new ChannelRefused(msg, e)));
            if (!this.clients.includes(client) || /No response from server/i.test(e.message)) return finish(() => reject(new Interrupted(e.message)));
            return finish(() => reject(new RelayError('SSH_CHANNEL_FAILED', msg, { fix: 'The connection may have dropped; it will reconnect on the next command.', cause: e })));
          }
          channel = ch;
          if (done) {
            ch.close();
            return;
          }
          ch.on('data', (d: Buffer) => { opts.onData?.(d, 'stdout'); outLen = take(d, out, outLen); });
          ch.stderr.on('data', (d: Buffer) => { opts.onData?.(d, 'stderr'); errLen = take(d, errOut, errLen); });
          ch.on('exit', (c: number | null, s?: string) => { exited = true; code = c; signal = s ?? null; });
          ch.on('close', () => finish(() => (exited || this.clients.includes(client) ? resolve(result()) : reject(new Interrupted('the channel closed without an exit status')))));
          if (opts.stdin !== undefined) ch.end(opts.stdin);
          else ch.end();
        });
      } catch (e) {
        // ssh2 throws "Not connected" when the socket is already gone: nothing was sent.
        finish(() => reject(new NotStarted(e instanceof Error ? e.message : String(e))));
      }
    });
  }

  /** The SFTP subsystem on the shared connection (one channel, opened once per connection). */
  async sftp(): Promise<SFTPWrapper> {
    return this.sftpFor(await this.connect());
  }

  private sftpFor(client: Client): Promise<SFTPWrapper> {
    let p = this.sftps.get(client);
    if (!p) {
      p = new Promise<SFTPWrapper>((resolve, reject) => {
        client.sftp((err, s) => {
          if (err) return reject(new RelayError('SSH_CHANNEL_FAILED', `Could not start SFTP on the SSH connection: ${err.message}.`, { fix: 'Check that the login node allows the sftp subsystem.', cause: err }));
          s.on('close', () => { if (this.sftps.get(client) === p) this.sftps.delete(client); });
          resolve(s);
        });
      });
      this.sftps.set(client, p);
      p.catch(() => { if (this.sftps.get(client) === p) this.sftps.delete(client); });
    }
    return p;
  }

  /** Runs an SFTP operation; all of ours are idempotent, so one dropped link is retried once. */
  private async withSftp<T>(what: string, remotePath: string, fn: (s: SFTPWrapper) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      try {
        return await fn(await this.sftpFor(client));
      } catch (e) {
        const dropped = !this.clients.includes(client);
        if (dropped && attempt === 0) {
          this.deps.logger.info('ssh connection dropped during SFTP; retrying', { what });
          continue;
        }
        if (dropped) throw new RelayError('SSH_DISCONNECTED', `The connection to ${this.deps.target.alias} dropped twice during ${what.toLowerCase()} ${remotePath}.`, { fix: 'Check your network or VPN; HPC Relay reconnects by itself.', cause: e });
        throw mapSftpError(e, what, remotePath);
      }
    }
  }

  /**
   * Writes a file on the cluster over SFTP: to a temporary name beside it, then renamed over the
   * target, so a reader never sees half a script. `mode` is applied exactly (not masked by umask).
   * Paths are absolute, or relative to the remote home directory (no `~` expansion).
   */
  async writeFile(remotePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.withSftp('Writing', remotePath, async (s) => {
      const tmp = `${remotePath}.hpc-relay-${crypto.randomBytes(6).toString('hex')}.tmp`;
      try {
        const h = await sftpOps.open(s, tmp, 'wx', mode);
        try {
          for (let off = 0; off < buf.length; off += SFTP_CHUNK) await sftpOps.write(s, h, buf.subarray(off, off + SFTP_CHUNK), off);
          await sftpOps.fchmod(s, h, mode);
        } finally {
          await sftpOps.close(s, h);
        }
        await sftpOps.rename(s, tmp, remotePath);
      } catch (e) {
        await sftpOps.unlink(s, tmp).catch(() => undefined);
        throw e;
      }
    });
  }

  /** Reads (part of) a file on the cluster over SFTP: from `offset`, at most `maxBytes`. */
  async readFile(remotePath: string, opts: ReadFileOptions = {}): Promise<ReadFileResult> {
    const offset = opts.offset ?? 0;
    const maxBytes = opts.maxBytes ?? 1024 * 1024;
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(maxBytes) || maxBytes < 0) {
      throw new RelayError('USAGE', `readFile needs a whole, non-negative offset and maxBytes (got ${offset}, ${maxBytes}).`);
    }
    return this.withSftp('Reading', remotePath, async (s) => {
      const h = await sftpOps.open(s, remotePath, 'r');
      try {
        const size = await sftpOps.fstat(s, h);
        const want = Math.max(0, Math.min(size, offset + maxBytes) - offset);
        const buf = Buffer.alloc(want);
        let got = 0;
        while (got < want) {
          const n = await sftpOps.read(s, h, buf, got, Math.min(SFTP_CHUNK, want - got), offset + got);
          if (n <= 0) break;
          got += n;
        }
        return { data: buf.subarray(0, got), size, nextOffset: offset + got, eof: offset + got >= size };
      } finally {
        await sftpOps.close(s, h).catch(() => undefined);
      }
    });
  }

  close(): void {
    this.teardown();
    this.setState({ kind: 'disconnected', reason: 'closed by HPC Relay' });
  }
}
