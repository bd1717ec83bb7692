import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addKnownHost, checkKnownHost, fingerprintSha256, keyTypeOfBlob, knownHostsName } from '../../main/core/cluster/known-hosts.js';
import { makeHome } from '../helpers/temp-home.js';

function blob(type: string, seed: string): Buffer {
  const t = Buffer.from(type);
  const body = crypto.createHash('sha256').update(seed).digest();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  const blen = Buffer.alloc(4);
  blen.writeUInt32BE(body.length);
  return Buffer.concat([len, t, blen, body]);
}

function hashed(name: string): string {
  const salt = crypto.randomBytes(20);
  return `|1|${salt.toString('base64')}|${crypto.createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const key = blob('ssh-ed25519', 'server');
  const other = blob('ssh-ed25519', 'attacker');
  const file = () => path.join(makeHome('kh'), 'known_hosts');

  it('matches plain, bracketed-port, wildcard and hashed entries', () => {
    const f = file();
    fs.writeFileSync(f, [
      `# comment`,
      `login.hpc.edu ssh-ed25519 ${key.toString('base64')}`,
      `[127.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}`,
      `*.cluster.org,!bad.cluster.org ssh-ed25519 ${key.toString('base64')}`,
      `${hashed('[hashed.example]:2200')} ssh-ed25519 ${key.toString('base64')}`,
    ].join('\n'));
    expect(checkKnownHost(f, 'login.hpc.edu', 22, 'ssh-ed25519', key).status).toBe('match');
    expect(checkKnownHost(f, '127.0.0.1', 2222, 'ssh-ed25519', key).status).toBe('match');
    expect(checkKnownHost(f, '127.0.0.1', 22, 'ssh-ed25519', key).status).toBe('unknown');
    expect(checkKnownHost(f, 'n1.cluster.org', 22, 'ssh-ed25519', key).status).toBe('match');
    expect(checkKnownHost(f, 'bad.cluster.org', 22, 'ssh-ed25519', key).status).toBe('unknown');
    expect(checkKnownHost(f, 'hashed.example', 2200, 'ssh-ed25519', key).status).toBe('match');
  });

  it('calls a different key of the same type "changed", with the line to look at', () => {
    const f = file();
    fs.writeFileSync(f, `a.example ssh-rsa AAAA\na.example ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkKnownHost(f, 'a.example', 22, 'ssh-ed25519', other)).toEqual({ status: 'changed', line: 2 });
  });

  it('treats @revoked keys as changed and a missing file as unknown', () => {
    const f = file();
    fs.writeFileSync(f, `@revoked * ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkKnownHost(f, 'x', 22, 'ssh-ed25519', key).status).toBe('changed');
    expect(checkKnownHost(`${f}.missing`, 'x', 22, 'ssh-ed25519', key).status).toBe('unknown');
  });

  it('appends a confirmed key in OpenSSH format that it then matches', () => {
    const f = file();
    fs.writeFileSync(f, 'other ssh-ed25519 AAAA');
    addKnownHost(f, '10.0.0.5', 2222, keyTypeOfBlob(key), key);
    expect(fs.readFileSync(f, 'utf8').split('\n')[1]).toBe(`[10.0.0.5]:2222 ssh-ed25519 ${key.toString('base64')}`);
    expect(checkKnownHost(f, '10.0.0.5', 2222, 'ssh-ed25519', key).status).toBe('match');
    expect(knownHostsName('h', 22)).toBe('h');
    expect(fingerprintSha256(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
