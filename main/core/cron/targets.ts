import os from 'node:os';
import path from 'node:path';
import { RelayError } from '../errors.js';

/** Where a monitor's output goes. */
export type Target =
  | { kind: 'slack' }
  | { kind: 'dm'; user: string }
  | { kind: 'tray' }
  | { kind: 'file'; path: string };

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

function badTarget(text: string, why: string): RelayError {
  return new RelayError('CRON_INVALID_TARGET', `"${text}" is not a delivery target: ${why}.`, {
    fix: 'Use slack (the home channel), dm:U012ABCDEF (a Slack DM), tray (a desktop notification) or file:PATH (appended to a local file).',
  });
}

/** Parses `slack`, `dm:U…`, `tray` or `file:PATH` (PATH made absolute against `cwd`, `~` expanded). */
export function parseTarget(text: string, cwd: string = process.cwd()): Target {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'slack' || lower === 'channel' || lower === 'home') return { kind: 'slack' };
  if (lower === 'tray' || lower === 'desktop') return { kind: 'tray' };
  if (lower.startsWith('dm:')) {
    const user = t.slice(3).trim();
    if (!USER_ID.test(user)) throw badTarget(t, `"${user}" is not a Slack user ID (they look like U012ABCDEF: profile → ⋮ → Copy member ID)`);
    return { kind: 'dm', user };
  }
  if (lower.startsWith('file:')) {
    let p = t.slice(5).trim();
    if (!p) throw badTarget(t, 'the file path is missing');
    if (/[\0\n]/.test(p)) throw badTarget(t, 'the path has a newline or NUL in it');
    if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
    return { kind: 'file', path: path.resolve(cwd, p) };
  }
  throw badTarget(t, 'unknown kind');
}

/** The stored form, which parseTarget reads back unchanged. */
export function formatTarget(t: Target): string {
  switch (t.kind) {
    case 'slack': return 'slack';
    case 'tray': return 'tray';
    case 'dm': return `dm:${t.user}`;
    case 'file': return `file:${t.path}`;
  }
}

export function describeTarget(t: Target): string {
  switch (t.kind) {
    case 'slack': return 'the Slack home channel';
    case 'tray': return 'the tray';
    case 'dm': return `a Slack DM to ${t.user}`;
    case 'file': return t.path;
  }
}
