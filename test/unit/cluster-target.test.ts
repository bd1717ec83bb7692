import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSshTarget } from '../../main/core/cluster/ssh-target.js';
import { backoffDelay } from '../../main/core/cluster/link-keeper.js';
import { parsePartitions } from '../../main/core/slurm/sinfo-parser.js';
import type { Settings } from '../../main/core/config/settings-types.js';
import { makeHome } from '../helpers/temp-home.js';

function cluster(over: Partial<Settings['cluster']>, configText: string): Settings['cluster'] {
  const dir = makeHome('sshcfg');
  const cfg = path.join(dir, 'config');
  fs.writeFileSync(cfg, configText);
  return { sshConfigFile: cfg, knownHostsFile: path.join(dir, 'kh'), pollSeconds: 60, ...over };
}

const CONFIG = `
Host hpc
  HostName login.hpc.example.edu
  User alice
  Port 2200
  IdentityFile ~/.ssh/id_hpc
  ProxyJump bob@bastion.example.edu:2022,hop2
  ServerAliveInterval 30

Host hop2
  HostName hop2.internal
  Port 2201

Host *
  User fallback
`;

describe('SSH target from ~/.ssh/config', () => {
  it('resolves an alias: HostName, User, Port, IdentityFile, multi-hop ProxyJump, ServerAliveInterval', () => {
    const t = resolveSshTarget(cluster({ host: 'hpc' }, CONFIG), 'local');
    expect(t).toMatchObject({ alias: 'hpc', host: 'login.hpc.example.edu', user: 'alice', port: 2200, keepaliveSeconds: 30 });
    expect(t.identityFiles[0]).toMatch(/\.ssh\/id_hpc$/);
    expect(t.jumps).toEqual([
      { host: 'bastion.example.edu', port: 2022, user: 'bob' },
      // As OpenSSH does, each hop is looked up in the config on its own: `Host *` gives hop2 its user.
      { host: 'hop2.internal', port: 2201, user: 'fallback' },
    ]);
  });

  it('lets explicit settings override the SSH config', () => {
    const t = resolveSshTarget(cluster({ host: 'hpc', user: 'carol', port: 22, identityFile: '/k', proxyJump: 'none' }, CONFIG), 'local');
    expect(t).toMatchObject({ user: 'carol', port: 22, identityFiles: ['/k'], jumps: [] });
  });

  it('falls back to the host name itself and the local user with no config entry', () => {
    const t = resolveSshTarget(cluster({ host: '127.0.0.1' }, ''), 'local');
    expect(t).toMatchObject({ host: '127.0.0.1', port: 22, user: 'local', jumps: [], keepaliveSeconds: 15 });
  });

  it('says what to do when no cluster is configured or a port is wrong', () => {
    expect(() => resolveSshTarget(cluster({}, ''))).toThrow(/No cluster is configured.*config set cluster\.host/);
    expect(() => resolveSshTarget(cluster({ host: 'x' }, 'Host x\n  Port 99999\n'))).toThrow(/invalid port "99999"/);
  });
});

describe('sinfo partitions', () => {
  it('reads the default marker, availability and node counts, merging repeated partitions', () => {
    const parts = parsePartitions('gpu_normal*|up|infinite|1\ngpu_dev|up|1:00:00|1\ngpu_dev|up|1:00:00|2\nold|down|2-00:00:00|0\n');
    expect(parts).toEqual([
      { name: 'gpu_normal', isDefault: true, available: true, timeLimit: 'infinite', nodes: 1 },
      { name: 'gpu_dev', isDefault: false, available: true, timeLimit: '1:00:00', nodes: 3 },
      { name: 'old', isDefault: false, available: false, timeLimit: '2-00:00:00', nodes: 0 },
    ]);
  });

  it('refuses malformed lines with the line quoted', () => {
    expect(() => parsePartitions('sinfo: error: slurm_load_partitions: Unable to contact slurm controller')).toThrow(/cannot read: "sinfo: error/);
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the cap, with bounded jitter', () => {
    const p = { initialMs: 1000, maxMs: 60_000, jitter: 0.3 };
    expect(backoffDelay(0, p, () => 1)).toBe(1000);
    expect(backoffDelay(3, p, () => 1)).toBe(8000);
    expect(backoffDelay(20, p, () => 1)).toBe(60_000);
    expect(backoffDelay(3, p, () => 0)).toBe(5600);
  });
});
