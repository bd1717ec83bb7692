// What resolveSshTarget adds for the session: OpenSSH's default identities when none is
// configured, a jump hop's own IdentityFile, and cluster.remoteDir carried along.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WINDOWS_OPENSSH_AGENT_PIPE, chooseAgent } from '../../main/core/cluster/ssh-agent.js';
import { DEFAULT_IDENTITY_FILES, resolveSshTarget } from '../../main/core/cluster/ssh-target.js';
import type { Settings } from '../../main/core/config/settings-types.js';
import { makeHome } from '../helpers/temp-home.js';

function cluster(over: Partial<Settings['cluster']>, configText: string): Settings['cluster'] {
  const dir = makeHome('ssh-target');
  const cfg = path.join(dir, 'config');
  fs.writeFileSync(cfg, configText);
  return { sshConfigFile: cfg, knownHostsFile: path.join(dir, 'kh'), pollSeconds: 60, ...over };
}

describe('resolveSshTarget, for the session', () => {
  it("tries OpenSSH's default identities when neither the settings nor the SSH config name one", () => {
    const t = resolveSshTarget(cluster({ host: 'login.example.edu' }, ''), 'local');
    expect(t.identityFiles).toEqual(DEFAULT_IDENTITY_FILES.map((f) => path.join(os.homedir(), f.slice(2))));
    expect(t.identityFiles[0]).toMatch(/\.ssh\/id_ed25519$/);
    expect(resolveSshTarget(cluster({ host: 'h', identityFile: '/k' }, ''), 'local').identityFiles).toEqual(['/k']);
  });

  it("gives a jump hop its own IdentityFile from the SSH config, and none when it has none", () => {
    const t = resolveSshTarget(cluster({ host: 'hpc' }, [
      'Host hpc', '  HostName login.internal', '  IdentityFile /keys/login', '  ProxyJump gate,plain',
      'Host gate', '  HostName gate.example.edu', '  IdentityFile ~/.ssh/gate',
    ].join('\n')), 'local');
    expect(t.identityFiles).toEqual(['/keys/login']);
    expect(t.jumps).toEqual([
      { host: 'gate.example.edu', port: 22, user: 'local', identityFiles: [path.join(os.homedir(), '.ssh/gate')] },
      { host: 'plain', port: 22, user: 'local' },
    ]);
  });

  it('carries cluster.remoteDir as set (resolved later, on the cluster)', () => {
    expect(resolveSshTarget(cluster({ host: 'h', remoteDir: '$HOME/runs' }, ''), 'local').remoteDir).toBe('$HOME/runs');
    expect(resolveSshTarget(cluster({ host: 'h' }, ''), 'local')).not.toHaveProperty('remoteDir');
  });
});

describe('which ssh-agent holds the keys, as OpenSSH picks it', () => {
  const sock = '/tmp/ssh-XXXX/agent.42';

  it('reads IdentityAgent from the SSH config for the host', () => {
    const t = resolveSshTarget(cluster({ host: 'hpc' }, ['Host hpc', '  IdentityAgent ~/.1password/agent.sock'].join('\n')), 'local');
    expect(t.identityAgent).toBe('~/.1password/agent.sock');
    expect(chooseAgent({ identityAgent: t.identityAgent, env: { SSH_AUTH_SOCK: sock }, platform: 'darwin' })).toBe(path.join(os.homedir(), '.1password/agent.sock'));
    expect(resolveSshTarget(cluster({ host: 'h' }, ''), 'local')).not.toHaveProperty('identityAgent');
  });

  it('IdentityAgent none turns the agent off; SSH_AUTH_SOCK means the variable; without a setting the variable is used', () => {
    expect(chooseAgent({ identityAgent: 'none', env: { SSH_AUTH_SOCK: sock }, platform: 'linux' })).toBeUndefined();
    expect(chooseAgent({ identityAgent: 'SSH_AUTH_SOCK', env: { SSH_AUTH_SOCK: sock }, platform: 'linux' })).toBe(sock);
    expect(chooseAgent({ env: { SSH_AUTH_SOCK: sock }, platform: 'linux' })).toBe(sock);
    expect(chooseAgent({ env: {}, platform: 'linux' })).toBeUndefined();
    expect(chooseAgent({ env: { SSH_AUTH_SOCK: '' }, platform: 'darwin' })).toBeUndefined();
  });

  it("on Windows without SSH_AUTH_SOCK: the built-in OpenSSH agent's pipe when it runs, else Pageant", () => {
    expect(chooseAgent({ env: {}, platform: 'win32', exists: (p) => p === WINDOWS_OPENSSH_AGENT_PIPE })).toBe('\\\\.\\pipe\\openssh-ssh-agent');
    expect(chooseAgent({ env: {}, platform: 'win32', exists: () => false })).toBe('pageant');
    expect(chooseAgent({ identityAgent: 'Pageant', env: {}, platform: 'win32', exists: () => true })).toBe('pageant');
    expect(chooseAgent({ env: { SSH_AUTH_SOCK: '\\\\.\\pipe\\my-agent' }, platform: 'win32', exists: () => true })).toBe('\\\\.\\pipe\\my-agent');
  });
});
