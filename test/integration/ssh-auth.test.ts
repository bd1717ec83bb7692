// Login methods against the testbed's real OpenSSH: an encrypted key (passphrase from the keychain,
// else asked once and saved only on yes), ssh-agent with no key file, and ProxyJump through the
// testbed's bastion sshd (a setting, and an alias in an SSH config file).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { isRelayError } from '../../main/core/errors.js';
import { sshPassphraseName } from '../../main/core/secrets/secret-names.js';
import { makeHome } from '../helpers/temp-home.js';
import { MemorySecretStore, RecordingPrompt, alive, bastionPort, coreWith, encryptedKey, killServerSide, startAgent } from '../testbed/ssh-kit.js';

const tb = inject('testbed');
const cores: Core[] = [];
const agents: number[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
  for (const pid of agents.splice(0)) if (alive(pid)) process.kill(pid, 'SIGTERM');
});

/** Settings that reach the testbed's login sshd, with nothing from ~/.ssh. */
function settings(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'cluster.host': tb.host,
    'cluster.port': tb.port,
    'cluster.user': tb.user,
    'cluster.knownHostsFile': tb.knownHostsFile,
    'cluster.sshConfigFile': '/nonexistent/ssh_config',
    ...over,
  };
}

function core(opts: Parameters<typeof coreWith>[1], home = makeHome('ssh-auth')): { core: Core; home: string; log: () => string } {
  const c = coreWith(home, opts);
  cores.push(c);
  const file = path.join(home, 'logs', 'hpc-relay.log');
  return { core: c, home, log: () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '') };
}

const VAULT = sshPassphraseName(tb.host);

describe('an encrypted key (real OpenSSH)', () => {
  const key = encryptedKey(tb);

  it('uses the passphrase from the keychain without asking anything', async () => {
    const keychain = new MemorySecretStore();
    keychain.values.set(VAULT, key.passphrase);
    const prompt = new RecordingPrompt();
    const { core: c, log } = core({ settings: settings({ 'cluster.identityFile': key.file }), prompt, keychain });
    expect((await c.cluster().exec(['echo', 'unlocked'])).stdout).toBe('unlocked\n');
    expect(prompt.asked).toEqual([]);
    expect(log()).not.toContain(key.passphrase);
  });

  it('asks once when the keychain lacks it, saves it on yes, and does not ask again on reconnect', async () => {
    const keychain = new MemorySecretStore();
    const prompt = new RecordingPrompt((q) => (q.kind === 'secret' ? key.passphrase : 'yes'));
    const { core: c, log } = core({ settings: settings({ 'cluster.identityFile': key.file }), prompt, keychain });
    const cluster = c.cluster();
    expect((await cluster.exec(['echo', 'one'])).stdout).toBe('one\n');
    expect(prompt.asked.map((q) => q.kind)).toEqual(['secret', 'confirm']);
    expect(prompt.asked[0]?.message).toContain(key.file);
    expect(keychain.values.get(VAULT)).toBe(key.passphrase);

    await killServerSide(cluster);
    await new Promise((r) => setTimeout(r, 300));
    expect((await cluster.exec(['echo', 'two'])).stdout).toBe('two\n');
    expect(cluster.ssh.handshakes).toBe(2);
    expect(prompt.asked).toHaveLength(2);
    expect(log()).not.toContain(key.passphrase);
  });

  it('keeps the passphrase out of the keychain when the user says no, yet does not ask again in this run', async () => {
    const keychain = new MemorySecretStore();
    const prompt = new RecordingPrompt((q) => (q.kind === 'secret' ? key.passphrase : null));
    const { core: c, log } = core({ settings: settings({ 'cluster.identityFile': key.file }), prompt, keychain });
    await c.cluster().exec(['true']);
    expect(prompt.asked.map((q) => q.kind)).toEqual(['secret', 'confirm']);
    expect(keychain.values.size).toBe(0);

    c.cluster().ssh.close();
    await c.cluster().exec(['true']);
    expect(c.cluster().ssh.handshakes).toBe(2);
    expect(prompt.asked).toHaveLength(2);
    expect(log()).not.toContain(key.passphrase);
  });

  it('asks when the keychain holds a wrong passphrase, and replaces it on yes', async () => {
    const keychain = new MemorySecretStore();
    keychain.values.set(VAULT, 'not-the-passphrase');
    const prompt = new RecordingPrompt((q) => (q.kind === 'secret' ? key.passphrase : 'yes'));
    const { core: c } = core({ settings: settings({ 'cluster.identityFile': key.file }), prompt, keychain });
    await c.cluster().exec(['true']);
    expect(prompt.asked.map((q) => q.kind)).toEqual(['secret', 'confirm']);
    expect(keychain.values.get(VAULT)).toBe(key.passphrase);
  });

  it('fails with SSH_AUTH_FAILED that names the key when no passphrase is given', async () => {
    const prompt = new RecordingPrompt(() => null);
    const { core: c } = core({ settings: settings({ 'cluster.identityFile': key.file }), prompt, keychain: new MemorySecretStore() });
    const err = await c.cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_AUTH_FAILED')).toBe(true);
    expect((err as Error).message).toContain(`key ${key.file} (no passphrase given)`);
    expect(prompt.asked.map((q) => q.kind)).toEqual(['secret']);
  });
});

describe('ssh-agent (started by the test)', () => {
  it('logs in with a key held only by the agent, with no identity file configured, and never forwards the agent', async () => {
    const dir = makeHome('agent');
    const sock = path.join(dir, 'agent.sock');
    agents.push(startAgent(sock));
    execFileSync('ssh-add', ['-q', tb.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });

    // Without the agent the same settings cannot log in: the agent is what does it.
    const without = core({ settings: settings(), prompt: new RecordingPrompt() });
    const err = await without.core.cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_AUTH_FAILED')).toBe(true);

    const prompt = new RecordingPrompt();
    const { core: c } = core({ settings: settings(), prompt, env: { SSH_AUTH_SOCK: sock } });
    expect(c.cluster().ssh.target.identityFiles).not.toContain(tb.identityFile);
    const r = await c.cluster().exec(['sh', '-c', 'echo "agent-login ${SSH_AUTH_SOCK:-not-forwarded}"']);
    expect(r.stdout).toBe('agent-login not-forwarded\n');
    expect(prompt.asked).toEqual([]);
  });

  it('goes on to the key file when SSH_AUTH_SOCK points at no agent', async () => {
    const prompt = new RecordingPrompt();
    const { core: c } = core({ settings: settings({ 'cluster.identityFile': tb.identityFile }), prompt, env: { SSH_AUTH_SOCK: path.join(makeHome('no-agent'), 'gone.sock') } });
    expect((await c.cluster().exec(['echo', 'ok'])).stdout).toBe('ok\n');
  });
});

describe('ProxyJump through the testbed bastion (real OpenSSH on both hops)', () => {
  const bastion = bastionPort(tb);

  it('reaches the login node through cluster.proxyJump (the bastion itself runs no commands)', async () => {
    const { core: c } = core({ settings: settings({ 'cluster.identityFile': tb.identityFile, 'cluster.proxyJump': `${tb.user}@${tb.host}:${bastion}` }), prompt: new RecordingPrompt() });
    const cluster = c.cluster();
    expect(cluster.ssh.target.jumps).toEqual([{ host: tb.host, port: bastion, user: tb.user }]);
    // Run on the bastion, anything prints the bastion's fixed line instead.
    expect((await cluster.exec(['echo', 'on-the-login-node'])).stdout).toBe('on-the-login-node\n');
    expect((await cluster.partitions()).map((p) => p.name).sort()).toEqual(['gpu_dev', 'gpu_normal']);
    expect(cluster.ssh.handshakes).toBe(2);
  });

  it('reaches the login node through an SSH config alias whose ProxyJump names another alias', async () => {
    const home = makeHome('ssh-config');
    const cfg = path.join(home, 'ssh_config');
    fs.writeFileSync(cfg, [
      'Host hpc-behind-bastion',
      `  HostName ${tb.host}`,
      `  Port ${tb.port}`,
      `  User ${tb.user}`,
      `  IdentityFile ${tb.identityFile}`,
      '  ProxyJump testbed-bastion',
      '',
      'Host testbed-bastion',
      `  HostName ${tb.host}`,
      `  Port ${bastion}`,
      `  User ${tb.user}`,
      `  IdentityFile ${tb.identityFile}`,
      '',
    ].join('\n'));
    const { core: c } = core({ settings: { 'cluster.host': 'hpc-behind-bastion', 'cluster.sshConfigFile': cfg, 'cluster.knownHostsFile': tb.knownHostsFile }, prompt: new RecordingPrompt() }, home);
    const cluster = c.cluster();
    expect(cluster.ssh.target).toMatchObject({ host: tb.host, port: tb.port, user: tb.user, jumps: [{ host: tb.host, port: bastion, user: tb.user, identityFiles: [tb.identityFile] }] });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => cluster.exec(['echo', `hop-${i}`])));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `hop-${i}\n`));
    expect(cluster.ssh.handshakes).toBe(2);
  });

  it("logs in to the bastion and the login node with one encrypted key, its passphrase stored once under the cluster's name", async () => {
    const key = encryptedKey(tb);
    const home = makeHome('ssh-config');
    const cfg = path.join(home, 'ssh_config');
    fs.writeFileSync(cfg, [
      'Host hpc-encrypted',
      `  HostName ${tb.host}`,
      `  Port ${tb.port}`,
      `  User ${tb.user}`,
      `  IdentityFile ${key.file}`,
      `  ProxyJump ${tb.user}@${tb.host}:${bastion}`,
      '',
    ].join('\n'));
    const keychain = new MemorySecretStore();
    keychain.values.set(sshPassphraseName('hpc-encrypted'), key.passphrase);
    const prompt = new RecordingPrompt();
    const { core: c, log } = core({ settings: { 'cluster.host': 'hpc-encrypted', 'cluster.sshConfigFile': cfg, 'cluster.knownHostsFile': tb.knownHostsFile }, prompt, keychain }, home);
    expect((await c.cluster().exec(['echo', 'two-hops'])).stdout).toBe('two-hops\n');
    expect(c.cluster().ssh.handshakes).toBe(2);
    expect(prompt.asked).toEqual([]);
    expect(log()).not.toContain(key.passphrase);
  });

  it('names the jump host when it is down, and when it refuses to forward', async () => {
    const down = core({ settings: settings({ 'cluster.identityFile': tb.identityFile, 'cluster.proxyJump': `${tb.user}@${tb.host}:1` }), prompt: new RecordingPrompt() });
    const e1 = await down.core.cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(e1, 'SSH_UNREACHABLE')).toBe(true);
    expect((e1 as Error).message).toContain(`${tb.host}:1 is not reachable`);

    // The bastion only forwards to the login sshd (PermitOpen): any other destination is refused.
    const refused = core({ settings: settings({ 'cluster.identityFile': tb.identityFile, 'cluster.port': 1, 'cluster.proxyJump': `${tb.user}@${tb.host}:${bastion}` }), prompt: new RecordingPrompt() });
    const e2 = await refused.core.cluster().ssh.connect().catch((e: unknown) => e);
    expect(isRelayError(e2, 'SSH_UNREACHABLE')).toBe(true);
    expect((e2 as Error).message).toMatch(new RegExp(`jump host ${tb.host}:${bastion} could not open a connection to ${tb.host}:1`));
  });
});
