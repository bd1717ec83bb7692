// What resolveSshTarget adds for the session: OpenSSH's default identities when none is
// configured, a jump hop's own IdentityFile, and cluster.remoteDir carried along.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
