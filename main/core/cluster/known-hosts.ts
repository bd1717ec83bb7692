import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type HostKeyVerdict =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'changed'; line: number };

/** How a host appears in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function globToRegExp(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = crypto.createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pat of field.split(',')) {
    if (pat.startsWith('!')) {
      if (globToRegExp(pat.slice(1)).test(name)) return false;
    } else if (globToRegExp(pat).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Checks a server's host key against an OpenSSH known_hosts file (plain, bracketed-port and hashed
 * entries, wildcards, @revoked). A key of the same type that differs is "changed": never accepted.
 */
export function checkKnownHost(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyVerdict {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { status: 'unknown' };
  }
  const name = knownHostsName(host, port);
  const keyB64 = keyBlob.toString('base64');
  let changedLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let marker: string | undefined;
    if (parts[0]?.startsWith('@')) marker = parts.shift();
    const [hosts, type, key] = parts;
    if (!hosts || !type || !key || !hostFieldMatches(hosts, name)) continue;
    if (marker === '@revoked') {
      if (key === keyB64) return { status: 'changed', line: i + 1 };
      continue;
    }
    if (marker === '@cert-authority') continue;
    if (key === keyB64) return { status: 'match' };
    if (type === keyType && !changedLine) changedLine = i + 1;
  }
  return changedLine ? { status: 'changed', line: changedLine } : { status: 'unknown' };
}

/** Appends a confirmed host key (only ever called after the user said yes). */
export function addKnownHost(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const cur = fs.readFileSync(file, 'utf8');
    if (cur.length && !cur.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  fs.appendFileSync(file, `${prefix}${knownHostsName(host, port)} ${keyType} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}

/** The key type name inside an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function keyTypeOfBlob(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
