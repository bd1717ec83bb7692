// Helpers for the SSH tests against the testbed (test/integration/ssh-*.test.ts, test/bench/ssh.bench.ts):
// find and disturb the server side of *one* test's connection (never anybody else's), and build
// sessions, cores and secret stores aimed at the testbed.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Core } from '../../main/core/index.js';
import { createLogger } from '../../main/core/log/logger.js';
import type { Logger, PromptRequest, PromptUser, SecretStore } from '../../main/core/ports.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { SshSession, type SshSessionDeps } from '../../main/core/cluster/ssh-session.js';
import type { SshTarget } from '../../main/core/cluster/ssh-target.js';
import { localCore } from '../helpers/testbed-core.js';
import type { TestbedInfo } from './testbed-info.js';

const execFileAsync = promisify(execFile);

/** Anything that can run a command over the session under test. */
interface Execs {
  exec(argv: readonly string[]): Promise<{ stdout: string }>;
}

/**
 * The sshd processes serving this session's connection (the privileged monitor and the user's
 * child), found from the session's own SSH_CONNECTION and `ss`: other people's connections to
 * the shared testbed are never touched.
 */
export async function serverPids(session: Execs): Promise<number[]> {
  const { stdout } = await session.exec(['printenv', 'SSH_CONNECTION']);
  const [, clientPort, , serverPort] = stdout.trim().split(' ');
  if (!clientPort || !serverPort) throw new Error(`unexpected SSH_CONNECTION "${stdout.trim()}"`);
  const { stdout: ss } = await execFileAsync('ss', ['-tnpH', 'state', 'established', `( sport = :${serverPort} and dport = :${clientPort} )`]);
  const pids = [...ss.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (pids.length === 0) throw new Error(`no sshd process holds 127.0.0.1:${serverPort} <- :${clientPort}`);
  return [...new Set(pids)];
}

export function signalPids(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The server kills this session's connection (as when sshd restarts or an admin kills it). */
export async function killServerSide(session: Execs): Promise<void> {
  signalPids(await serverPids(session), 'SIGKILL');
}

/** A PromptUser that answers from a script and records every question. */
export class RecordingPrompt implements PromptUser {
  readonly asked: PromptRequest[] = [];
  constructor(private readonly answer: (req: PromptRequest) => string | null | Promise<string | null> = () => null) {}
  async ask(req: PromptRequest): Promise<string | null> {
    this.asked.push(req);
    return this.answer(req);
  }
}

/** A keychain in memory (the real one needs a D-Bus Secret Service). */
export class MemorySecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  async get(account: string): Promise<string | null> { return this.values.get(account) ?? null; }
  async set(account: string, value: string): Promise<void> { this.values.set(account, value); }
  async delete(account: string): Promise<boolean> { return this.values.delete(account); }
}

/** A debug-level JSON log file under `home`, for tests that check what never reaches the log. */
export function fileLogger(home: string): { logger: Logger; file: string; read(): string } {
  const file = path.join(home, 'logs', 'hpc-relay.log');
  const logger = createLogger({ file, registry: new SecretRegistry(), level: 'debug' });
  return { logger, file, read: () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '') };
}

/** The testbed's login sshd as an SshTarget (no ~/.ssh involved). */
export function testbedTarget(tb: TestbedInfo, over: Partial<SshTarget> = {}): SshTarget {
  return {
    alias: tb.host,
    host: tb.host,
    port: tb.port,
    user: tb.user,
    identityFiles: [tb.identityFile],
    jumps: [],
    keepaliveSeconds: 15,
    knownHostsFile: tb.knownHostsFile,
    ...over,
  };
}

/** An SshSession straight at the testbed (or at `over.target`). */
export function testbedSession(tb: TestbedInfo, over: Partial<SshSessionDeps> = {}): SshSession {
  return new SshSession({
    target: testbedTarget(tb),
    prompt: new RecordingPrompt(),
    vault: { get: async () => null, save: async () => undefined },
    logger: createLogger({ registry: new SecretRegistry() }),
    ...over,
  });
}

/**
 * A real core (settings file, logger, secrets service over `keychain`) with the given settings
 * and environment; unlike testbedCore, nothing is preset. Debug-level logs, for the SSH tests.
 */
export function coreWith(home: string, opts: { settings: Record<string, unknown>; prompt: PromptUser; keychain?: SecretStore; env?: NodeJS.ProcessEnv; logger?: Logger }): Core {
  return localCore({ ...opts, home, logLevel: 'debug' });
}

/** OpenSSH client options for the testbed, hermetic: its key and known_hosts, nothing from ~/.ssh, no prompts. */
export function opensshArgs(tb: TestbedInfo): string[] {
  return [
    '-F', '/dev/null',
    '-i', tb.identityFile,
    '-p', String(tb.port),
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${tb.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
  ];
}

/** The testbed's encrypted key and its passphrase (test-only; never print it). */
export function encryptedKey(tb: TestbedInfo): { file: string; passphrase: string } {
  if (!tb.encryptedIdentityFile || !tb.encryptedIdentityPassphraseFile) {
    throw new Error('testbed.json has no encrypted key: re-run  sudo bash test/testbed/up.sh');
  }
  return { file: tb.encryptedIdentityFile, passphrase: fs.readFileSync(tb.encryptedIdentityPassphraseFile, 'utf8').trim() };
}

export function bastionPort(tb: TestbedInfo): number {
  if (!tb.bastionPort) throw new Error('testbed.json has no bastion: re-run  sudo bash test/testbed/up.sh');
  return tb.bastionPort;
}

/** Polls until `check` is true (or throws after `ms`). */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a process is alive (for cleaning up what a test started, by pid). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `ssh-agent -a SOCK`, started by a test; returns its pid (stop it with process.kill(pid)). */
export function startAgent(sock: string): number {
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  const m = /SSH_AGENT_PID=(\d+)/.exec(out);
  if (!m) throw new Error('ssh-agent printed no pid');
  return Number(m[1]);
}
