/**
 * Rotation of the events file on the real testbed, with the jobs runtime watching it (rotation at
 * 300 bytes here; 4 MiB by default): past the size the watcher stops its stream, renames
 * events.log to events.log.1, lets lines in flight land, reads the old file from its byte offset
 * to the end and follows the new file from byte 0. A line a writer had opened the old file for
 * (it lands after the rename) is not lost, no line is taken twice, and job ends after the rotation
 * arrive through the new file. A rotation by someone else (another relay process) is followed too:
 * tail -F says the file was replaced, the watcher reopens and reads what the switch skipped.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { finalOf, shScript, startJobsApp, type JobsApp } from '../helpers/e2e-cluster.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
let app: JobsApp;
let events: string;

beforeAll(async () => {
  app = await startJobsApp(tb, `$HOME/hpc-relay-it/rotate-${RUN}`, [], { watcher: { rotateBytes: 300, settleMs: 2_000 } });
  events = await app.jobs.eventsPath();
});
afterAll(async () => {
  await app?.stop();
});

const sh = (script: string, ...args: string[]) => app.core.cluster().run(['sh', '-c', script, 'sh', ...args], { timeoutMs: 60_000 });
const trapLines = (jobId: string) => app.jobs.store.events(jobId).filter((e) => e.kind === 'exit-trap').map((e) => e.detail.epoch);

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A job that completes, noticed through the events file (no tick runs here). */
async function completes(name: string): Promise<string> {
  const sub = await app.jobs.submitScript(shScript(name, `echo ${name}`));
  const r = await finalOf(app, sub.jobId, 120_000);
  expect(app.jobs.store.get(sub.jobId)).toMatchObject({ state: 'COMPLETED' });
  if (r) expect(r.transition.source).toBe('events');
  return sub.jobId;
}

describe('events.log rotation', () => {
  it('rotates past the size without losing a line in flight to the old file, then follows the new file', async () => {
    const first = await completes('first.sh');
    const firstEpochs = trapLines(first);
    expect(firstEpochs).toHaveLength(1);

    // A writer that opened events.log before the rotation and writes only after the rename (as a
    // wrapper caught between its open and its write would): its line lands in events.log.1.
    const inFlight = sh('exec 3>>"$1"; i=0; while [ ! -e "$1.1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; printf "%s 0 1234567890\\n" "$2" >&3', events, first);
    await new Promise((r) => setTimeout(r, 500));
    // Lines for jobs this store does not know (another relay's, say) push the file past 300 bytes.
    await sh('i=0; while [ $i -lt 30 ]; do echo "99999$i 0 1795800000" >> "$1"; i=$((i+1)); done', events);
    await inFlight;

    await until('the in-flight line to be read from the old file', () => (trapLines(first).includes(1234567890) ? true : undefined));
    expect(trapLines(first)).toEqual([...firstEpochs, 1234567890]);
    const old = await sh('cat -- "$1.1"', events);
    expect(old).toContain(`${first} 0 1234567890\n`);
    expect(old.split('\n').filter((l) => l.startsWith('99999'))).toHaveLength(30);

    // After the rotation: a new job's end arrives through the new file, within seconds.
    const second = await completes('second.sh');
    const now = await sh('cat -- "$1"', events);
    expect(now.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${second} 0 \\d+$`))]);
    // The cursor is in the new file, at its end.
    await until('the cursor to reach the end of the new file', () => (app.jobs.metrics.findCursor('(events)', events)?.offset === Buffer.byteLength(now) ? true : undefined));
    expect(trapLines(second)).toHaveLength(1);
  }, 240_000);

  it('a rotation by another process (tail -F follows the new file): the rest of the old one is read, nothing twice', async () => {
    const before = await completes('before.sh');
    // Someone else rotates; then a line lands in the old file (its writer had it open) and a job ends in the new one.
    await sh('mv -f "$1" "$1.1" && : >> "$1" && printf "%s 0 1234567891\\n" "$2" >> "$1.1"', events, before);
    const after = await completes('after.sh');
    await until('the line left in the old file', () => (trapLines(before).includes(1234567891) ? true : undefined));
    expect(trapLines(before)).toHaveLength(2);
    expect(trapLines(after)).toHaveLength(1);
  }, 240_000);
});
