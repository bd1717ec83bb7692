// Liveness against the testbed's real OpenSSH: the LinkKeeper reconnects by itself with backoff
// after the server kills the session and reports each state; resume() probes at once after a
// (simulated) sleep; idempotent reads are retried after a drop, a non-idempotent command never is.
// Only this test's own connection is disturbed (its sshd processes, found through SSH_CONNECTION).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { LinkKeeper, type BackoffPolicy, type LinkState } from '../../main/core/cluster/link-keeper.js';
import type { SshSession } from '../../main/core/cluster/ssh-session.js';
import { isRelayError } from '../../main/core/errors.js';
import { silentLogger } from '../../main/core/log/logger.js';
import { systemClock } from '../../main/core/ports.js';
import { makeHome } from '../helpers/temp-home.js';
import { killServerSide, serverPids, signalPids, testbedSession, testbedTarget, until } from '../testbed/ssh-kit.js';

const tb = inject('testbed');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sessions: SshSession[] = [];
const keepers: LinkKeeper[] = [];
const stopped: number[][] = [];
afterEach(() => {
  for (const k of keepers.splice(0)) k.stop();
  for (const s of sessions.splice(0)) s.close();
  for (const pids of stopped.splice(0)) {
    signalPids(pids, 'SIGKILL');
    signalPids(pids, 'SIGCONT');
  }
});

function session(): SshSession {
  const s = testbedSession(tb);
  sessions.push(s);
  return s;
}

function keeper(s: SshSession, policy: BackoffPolicy, probeTimeoutMs = 10_000): { keeper: LinkKeeper; states: LinkState[] } {
  const k = new LinkKeeper(s, systemClock, silentLogger, policy, { probeTimeoutMs });
  keepers.push(k);
  const states: LinkState[] = [];
  k.on('state', (st) => states.push(st));
  return { keeper: k, states };
}

/** A directory the remote user (relay) can write: the testbed shares this machine's filesystem. */
function sharedDir(label: string): string {
  const dir = makeHome(label);
  fs.chmodSync(dir, 0o777);
  return dir;
}

describe('the link keeper', () => {
  it('reconnects by itself with backoff after the server kills the session, reporting every state', async () => {
    const s = session();
    const { keeper: k, states } = keeper(s, { initialMs: 200, maxMs: 2_000, jitter: 0.2 });
    k.start();
    await until(() => s.connected, 10_000, 'the first connection');
    expect(states.map((x) => x.kind)).toEqual(['connecting', 'connected']);

    await killServerSide(s);
    await until(() => s.handshakes === 2 && s.connected, 10_000, 'the keeper to reconnect');
    const after = states.slice(2);
    expect(after.map((x) => x.kind)).toEqual(['disconnected', 'retrying', 'connecting', 'connected']);
    const [dropped, retrying] = after;
    expect(dropped?.kind === 'disconnected' && dropped.reason).toMatch(/^the connection (closed|was lost: .+)$/);
    expect(retrying).toMatchObject({ kind: 'retrying', attempt: 1 });
    const inMs = retrying?.kind === 'retrying' ? retrying.inMs : -1;
    expect(inMs).toBeGreaterThanOrEqual(160);
    expect(inMs).toBeLessThanOrEqual(200);
    expect((await s.exec(['echo', 'back'])).stdout).toBe('back\n');
    expect(s.handshakes).toBe(2);
  });

  it('resume() after a sleep: a live link is probed and kept, a silently dead one is replaced at once', async () => {
    const s = session();
    // A backoff so long that only resume() can explain a quick reconnect.
    const { keeper: k } = keeper(s, { initialMs: 600_000, maxMs: 600_000, jitter: 0 }, 1_000);
    k.start();
    await until(() => s.connected, 10_000, 'the first connection');

    await k.resume();
    expect(s.handshakes).toBe(1);

    // The laptop slept: the server side stops answering, and nothing has noticed yet.
    const pids = await serverPids(s);
    stopped.push(pids);
    signalPids(pids, 'SIGSTOP');
    expect(s.connected).toBe(true);
    await k.resume();
    expect(s.connected).toBe(true);
    expect(s.handshakes).toBe(2);
    expect((await s.exec(['echo', 'awake'])).stdout).toBe('awake\n');
  });

  it('resume() reconnects now when a drop was seen during sleep and the next retry is far off', async () => {
    const s = session();
    const { keeper: k, states } = keeper(s, { initialMs: 600_000, maxMs: 600_000, jitter: 0 });
    k.start();
    await until(() => s.connected, 10_000, 'the first connection');
    await killServerSide(s);
    await until(() => states.some((x) => x.kind === 'retrying'), 10_000, 'a scheduled retry');
    expect(states.find((x) => x.kind === 'retrying')).toMatchObject({ inMs: 600_000 });

    await k.resume();
    expect(s.connected).toBe(true);
    expect(s.handshakes).toBe(2);
  });
});

describe('the link keeper and errors only a person can fix', () => {
  it('stops retrying and reports attention when the host key is not confirmed', async () => {
    const kh = path.join(makeHome('keeper-kh'), 'known_hosts');
    const s = testbedSession(tb, { target: testbedTarget(tb, { knownHostsFile: kh }) });
    sessions.push(s);
    const { keeper: k, states } = keeper(s, { initialMs: 50, maxMs: 100, jitter: 0 });
    k.start();
    await until(() => states.some((x) => x.kind === 'attention'), 10_000, 'attention');
    await sleep(400);
    expect(states.map((x) => x.kind)).toEqual(['connecting', 'prompting', 'connecting', 'disconnected', 'attention']);
    expect(states.at(-1)).toMatchObject({ kind: 'attention', code: 'SSH_HOSTKEY_UNKNOWN' });
    expect(k.lastError).toMatch(/not confirmed/);
    expect(fs.existsSync(kh)).toBe(false);
  });
});

describe('commands when the connection drops under them', () => {
  it('retries an idempotent read once on a new connection', async () => {
    const s = session();
    const pids = await serverPids(s);
    const dir = sharedDir('idem');
    const started = path.join(dir, 'started');
    const read = s.exec(['sh', '-c', `echo x >> ${started}; sleep 1; echo read-done`], { idempotent: true, timeoutMs: 20_000 });
    await until(() => fs.existsSync(started), 10_000, 'the command to start');
    signalPids(pids, 'SIGKILL');
    const r = await read;
    expect(r).toMatchObject({ stdout: 'read-done\n', code: 0 });
    expect(fs.readFileSync(started, 'utf8')).toBe('x\nx\n');
    expect(s.handshakes).toBe(2);
  });

  it('never re-runs a non-idempotent command (the default): it fails with SSH_COMMAND_INTERRUPTED and ran once', async () => {
    const s = session();
    const pids = await serverPids(s);
    const dir = sharedDir('once');
    const runs = path.join(dir, 'runs');
    const submit = s.exec(['sh', '-c', `echo run >> ${runs}; sleep 1; echo Submitted batch job 42`]);
    await until(() => fs.existsSync(runs), 10_000, 'the command to start');
    signalPids(pids, 'SIGKILL');
    const err = await submit.catch((e: unknown) => e);
    expect(isRelayError(err, 'SSH_COMMAND_INTERRUPTED')).toBe(true);
    expect((err as Error).message).toMatch(/dropped while `sh` was running: it may or may not have finished, so HPC Relay did not run it again\. Check on the cluster/);
    await sleep(1_500);
    expect(fs.readFileSync(runs, 'utf8')).toBe('run\n');
    // The session itself recovers for the next command.
    expect((await s.exec(['echo', 'next'])).stdout).toBe('next\n');
    expect(s.handshakes).toBe(2);
  });
});

describe('many commands at once', () => {
  it('runs more commands than the server allows channels, with no listener pile-up on the connection', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const s = testbedSession(tb, { maxChannels: 24 }); // more than the testbed's MaxSessions 10
      sessions.push(s);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => s.exec(['sh', '-c', `sleep 0.2; echo ${i}`], { idempotent: true })));
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      expect(s.handshakes).toBe(1);
      await sleep(50);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('streaming and cancellation', () => {
  it('streams output as it comes (a tail): the command waits for the test to see its first line', async () => {
    const s = session();
    const dir = sharedDir('stream');
    const flag = path.join(dir, 'seen-first-line');
    const chunks: string[] = [];
    const r = await s.exec(['sh', '-c', `echo first; while [ ! -e ${flag} ]; do sleep 0.05; done; echo second`], {
      timeoutMs: 20_000,
      onData: (chunk, stream) => {
        chunks.push(`${stream}:${chunk.toString()}`);
        if (chunk.toString().includes('first')) fs.writeFileSync(flag, '');
      },
    });
    expect(r).toMatchObject({ code: 0, stdout: 'first\nsecond\n' });
    expect(chunks.join('')).toBe('stdout:first\nstdout:second\n');
  });

  it('cancels a running command through an AbortSignal', async () => {
    const s = session();
    const ac = new AbortController();
    const p = s.exec(['sleep', '30'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    await expect(p).rejects.toThrow(/cancelled/);
    expect((await s.exec(['echo', 'still-fine'])).stdout).toBe('still-fine\n');
    expect(s.handshakes).toBe(1);
  });
});
