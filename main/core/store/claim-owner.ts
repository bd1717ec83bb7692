import os from 'node:os';

/**
 * Who holds a claim on a shared row (a notification being delivered, a monitor run): this host,
 * this process id and a random token, so a process that reuses a dead one's pid (a daemon that is
 * pid 1 in its container on every start) is still told apart from it.
 */
export type ProcessOwner = string;

/** This process's owner string, the same for every store in the process. */
export const PROCESS_OWNER: ProcessOwner = newProcessOwner();

export function newProcessOwner(): ProcessOwner {
  return `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * What is known of a claim's holder, seen from `self`:
 * - `self`: this very owner;
 * - `live`: another process on this host that is running;
 * - `gone`: a process on this host that is no longer running (or this pid with another token);
 * - `unknown`: another host, or a claim written without an owner — only its age can tell.
 */
export function ownerState(owner: string | null | undefined, self: ProcessOwner = PROCESS_OWNER): 'self' | 'live' | 'gone' | 'unknown' {
  if (!owner) return 'unknown';
  if (owner === self) return 'self';
  const [host, pidText, token] = owner.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname() || !token || !Number.isSafeInteger(pid) || pid < 1) return 'unknown';
  if (pid === process.pid) return 'gone';
  return pidAlive(pid) ? 'live' : 'gone';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
