// Keyboard-interactive 2FA, the password fallback and the "which methods were tried" report, against
// an ssh2 Server in the test (OpenSSH needs PAM for custom prompts). The client side is the real
// SshSession, over real TCP.
import fs from 'node:fs';
import path from 'node:path';
import ssh2, { type AuthContext, type Connection } from 'ssh2';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import type { SessionState, SshSession } from '../../main/core/cluster/ssh-session.js';
import { makeHome } from '../helpers/temp-home.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { RecordingPrompt, fileLogger, testbedSession, testbedTarget } from '../testbed/ssh-kit.js';

const { Server, utils } = ssh2;
type SshServer = InstanceType<typeof Server>;
const tb = inject('testbed');

/** What a Duo-protected login node sends: its own words, which must reach the user verbatim. */
const DUO_PROMPT = 'Duo two-factor login for relay\n\nEnter a passcode or select one of the following options:\n\n 1. Duo Push to XXX-XXX-1234\n\nPasscode or option (1-1): ';
const DUO_CODE = '493817';

interface FakeLoginNode {
  port: number;
  knownHosts: string;
  /** Auth methods the server saw, in order ("publickey", "keyboard-interactive", "password", …). */
  methods: string[];
  /** Keyboard-interactive prompt rounds the server sent. */
  rounds: number;
  /** Connections that completed login. */
  logins: number;
  commands: string[];
}

const servers: SshServer[] = [];
const sessions: SshSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/**
 * An SSH server on 127.0.0.1 whose authentication is `auth`; once in, `echo ARGS` prints ARGS and
 * anything else exits 127. Its host key is pinned in a fresh known_hosts.
 */
/**
 * An ed25519 host key ssh2 can read back. ssh2's own generator drops the public key's leading zero
 * byte, so about 1 key in 256 comes out malformed (mscdex/ssh2#1513; 10 of 3000 here) and the
 * Server refuses it: the stop-15 CI run failed on one. Keys that do not parse are drawn again.
 */
function hostKey(): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const keys = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(keys.private) instanceof Error) && !(utils.parseKey(keys.public) instanceof Error)) return keys;
  }
  throw new Error('ssh2 generated 20 ed25519 keys in a row that it cannot parse');
}

async function fakeLoginNode(auth: (ctx: AuthContext, node: FakeLoginNode) => void): Promise<FakeLoginNode> {
  const keys = hostKey();
  const node: FakeLoginNode = { port: 0, knownHosts: path.join(makeHome('fake-login'), 'known_hosts'), methods: [], rounds: 0, logins: 0, commands: [] };
  const server = new Server({ hostKeys: [keys.private] }, (client: Connection) => {
    client.on('authentication', (ctx) => {
      node.methods.push(ctx.method);
      auth(ctx, node);
    });
    client.on('ready', () => {
      node.logins++;
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const ch = acceptExec();
          node.commands.push(info.command);
          if (info.command.startsWith('echo ')) {
            ch.write(`${info.command.slice(5)}\n`);
            ch.exit(0);
          } else {
            ch.stderr.write('not here\n');
            ch.exit(127);
          }
          ch.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  node.port = typeof addr === 'object' && addr ? addr.port : 0;
  fs.writeFileSync(node.knownHosts, `[127.0.0.1]:${node.port} ${keys.public.split(' ').slice(0, 2).join(' ')}\n`);
  return node;
}

/** Duo-style keyboard-interactive only; the right code gets in. */
function duoOnly(ctx: AuthContext, node: FakeLoginNode): void {
  if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
  node.rounds++;
  ctx.prompt([{ prompt: DUO_PROMPT, echo: false }], 'Duo Security', '', (answers) => (answers[0] === DUO_CODE ? ctx.accept() : ctx.reject(['keyboard-interactive'])));
}

function session(node: FakeLoginNode, prompt: RecordingPrompt, over: Parameters<typeof testbedSession>[1] = {}): SshSession {
  const s = testbedSession(tb, {
    target: testbedTarget(tb, { port: node.port, knownHostsFile: node.knownHosts, identityFiles: [] }),
    prompt,
    ...over,
  });
  sessions.push(s);
  return s;
}

describe('keyboard-interactive 2FA (ssh2 server in the test)', () => {
  it('forwards the prompt verbatim, asks once, and runs many commands on that one login; the code is never logged', async () => {
    const node = await fakeLoginNode(duoOnly);
    const log = fileLogger(makeHome('2fa-log'));
    const prompt = new RecordingPrompt(() => DUO_CODE);
    const s = session(node, prompt, { logger: log.logger });
    const states: SessionState['kind'][] = [];
    s.on('state', (st) => states.push(st.kind));

    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => s.exec(['echo', `job-${i}`])));
    for (let i = 0; i < 10; i++) await s.exec(['echo', `again-${i}`]);

    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 25 }, (_, i) => `job-${i}\n`));
    expect(node.commands).toHaveLength(35);
    expect(prompt.asked).toHaveLength(1);
    expect(prompt.asked[0]).toMatchObject({ kind: 'secret', title: `Login to ${tb.host}` });
    expect(prompt.asked[0]?.message).toBe(`Duo Security\n${DUO_PROMPT}`);
    expect({ rounds: node.rounds, logins: node.logins, handshakes: s.handshakes }).toEqual({ rounds: 1, logins: 1, handshakes: 1 });
    expect(states).toEqual(['connecting', 'prompting', 'connecting', 'connected']);
    expect(log.read()).toContain('"msg":"ssh login asks the user"');
    expect(log.read()).toContain('"tried":["keyboard-interactive"],"msg":"ssh logged in"');
    expect(log.read()).not.toContain(DUO_CODE);
  });

  it('keeps the answer out of the log even when it is the password-like test secret', async () => {
    const node = await fakeLoginNode((ctx, n) => {
      if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
      n.rounds++;
      ctx.prompt([{ prompt: 'Password: ', echo: false }, { prompt: 'Verification code: ', echo: true }], (answers) => (answers[0] === TEST_SECRETS.passphrase && answers[1] === DUO_CODE ? ctx.accept() : ctx.reject()));
    });
    const log = fileLogger(makeHome('2fa-log'));
    const prompt = new RecordingPrompt((q) => (q.message.endsWith('Password: ') ? TEST_SECRETS.passphrase : DUO_CODE));
    const s = session(node, prompt, { logger: log.logger });
    await s.exec(['echo', 'in']);
    expect(log.read()).toContain('"msg":"ssh logged in"');
    expect(prompt.asked.map((q) => [q.kind, q.message])).toEqual([['secret', 'Password: '], ['text', 'Verification code: ']]);
    expect(log.read()).not.toContain(TEST_SECRETS.passphrase);
    expect(log.read()).not.toContain(DUO_CODE);
  });

  it('ends with SSH_2FA_TIMEOUT when nobody answers the prompt', async () => {
    const node = await fakeLoginNode(duoOnly);
    const prompt = new RecordingPrompt(() => new Promise<string | null>(() => undefined)); // never answered
    const s = session(node, prompt, { promptTimeoutMs: 600 });
    const t0 = Date.now();
    const err = await s.exec(['echo', 'never']).catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_2FA_TIMEOUT')).toBe(true);
    expect((err as Error).message).toMatch(/The login prompt "Passcode or option \(1-1\):" from 127\.0\.0\.1 got no answer within 1 s/);
    // The question was withdrawn: a 2FA window or terminal prompt closes instead of waiting for nobody.
    expect(prompt.asked.map((q) => q.signal?.aborted)).toEqual([true]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.state.kind).toBe('disconnected');
    expect(node.logins).toBe(0);
    expect(node.commands).toEqual([]);
  });

  it('does not count the time a person takes to answer against the connect timeout', async () => {
    const node = await fakeLoginNode(duoOnly);
    const prompt = new RecordingPrompt(() => new Promise((r) => setTimeout(() => r(DUO_CODE), 1200)));
    const s = session(node, prompt, { readyTimeoutMs: 400 });
    expect((await s.exec(['echo', 'slow-but-fine'])).stdout).toBe('slow-but-fine\n');
  });
});

describe('the order of login methods, password last', () => {
  /** Offers everything; only the password gets in. */
  function passwordOnly(ctx: AuthContext, node: FakeLoginNode): void {
    const all: ('publickey' | 'keyboard-interactive' | 'password')[] = ['publickey', 'keyboard-interactive', 'password'];
    if (ctx.method === 'keyboard-interactive') {
      node.rounds++;
      return ctx.prompt([{ prompt: 'Verification code: ', echo: false }], () => ctx.reject(all));
    }
    if (ctx.method === 'password' && ctx.password === TEST_SECRETS.passphrase) return ctx.accept();
    ctx.reject(all);
  }

  it('tries the key, then keyboard-interactive, then asks for the password last', async () => {
    const node = await fakeLoginNode(passwordOnly);
    const prompt = new RecordingPrompt((q) => (q.message.startsWith('Password for') ? TEST_SECRETS.passphrase : 'wrong-code'));
    const s = session(node, prompt, { target: testbedTarget(tb, { port: node.port, knownHostsFile: node.knownHosts, identityFiles: [tb.identityFile] }) });
    expect((await s.exec(['echo', 'in-by-password'])).stdout).toBe('in-by-password\n');
    expect(node.methods).toEqual(['publickey', 'keyboard-interactive', 'password']);
    expect(prompt.asked.map((q) => q.message)).toEqual(['Verification code: ', `Password for ${tb.user}@${tb.host}`]);
  });

  it('names every method it tried when all fail', async () => {
    const node = await fakeLoginNode(passwordOnly);
    const prompt = new RecordingPrompt(() => 'wrong');
    const s = session(node, prompt, { target: testbedTarget(tb, { port: node.port, knownHostsFile: node.knownHosts, identityFiles: [tb.identityFile] }) });
    const err = await s.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_AUTH_FAILED')).toBe(true);
    expect((err as Error).message).toContain(`refused every login method tried (key ${tb.identityFile}, keyboard-interactive, password)`);
    expect(node.logins).toBe(0);
  });
});
