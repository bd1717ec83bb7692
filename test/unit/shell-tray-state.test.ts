/** The tray as a pure state machine: icon, tooltip, title and badge for each situation; the menu from a job list. */
import { describe, expect, it } from 'vitest';
import type { Clock, LinkStatus, RunningJob, StatusSnapshot } from '../../main/core/ports.js';
import { createShellState } from '../../main/app/shell-state.js';
import { MAX_LISTED_JOBS, buildTrayMenu } from '../../main/app/tray-menu.js';
import type { TrayMenuItem } from '../../main/app/tray-menu.js';
import { PAUSE_MS, initialTrayModel, reduceTray, trayView } from '../../main/app/tray-state.js';
import type { TrayEvent, TrayIcon, TrayModel } from '../../main/app/tray-state.js';

const off: LinkStatus = { state: 'off' };
const up: LinkStatus = { state: 'connected' };
const job = (id: string, name = `job-${id}`, state = 'RUNNING'): RunningJob => ({ id, name, state });

function snapshot(part: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return { ssh: up, slack: off, model: off, jobs: { running: [] }, ...part };
}

function run(events: TrayEvent[], start = snapshot()): TrayModel {
  return events.reduce(reduceTray, initialTrayModel(start));
}

const formatTime = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

describe('tray icon', () => {
  const cases: [string, TrayEvent[], TrayIcon][] = [
    ['nothing going on', [], 'idle'],
    ['cluster not configured', [{ type: 'status', status: snapshot({ ssh: off }) }], 'idle'],
    ['connecting', [{ type: 'status', status: snapshot({ ssh: { state: 'connecting' } }) }], 'idle'],
    ['two jobs running', [{ type: 'status', status: snapshot({ jobs: { running: [job('1'), job('2')] } }) }], 'running'],
    ['a job succeeded, unseen', [{ type: 'job-ended', jobId: '1', outcome: 'succeeded' }], 'idle'],
    ['a job failed, unseen', [{ type: 'job-ended', jobId: '1', outcome: 'failed' }], 'failed'],
    ['a failure outranks running jobs', [{ type: 'status', status: snapshot({ jobs: { running: [job('2')] } }) }, { type: 'job-ended', jobId: '1', outcome: 'failed' }], 'failed'],
    ['the failed job was opened', [{ type: 'job-ended', jobId: '1', outcome: 'failed' }, { type: 'job-seen', jobId: '1' }], 'idle'],
    ['the window was looked at', [{ type: 'job-ended', jobId: '1', outcome: 'failed' }, { type: 'all-seen' }], 'idle'],
    ['the job failed again after a retry succeeded', [{ type: 'job-ended', jobId: '1', outcome: 'succeeded' }, { type: 'job-ended', jobId: '1', outcome: 'failed' }], 'failed'],
    ['cluster link down', [{ type: 'status', status: snapshot({ ssh: { state: 'disconnected', detail: 'ECONNREFUSED' } }) }], 'attention'],
    ['a 2FA prompt is waiting', [{ type: 'status', status: snapshot({ ssh: { state: 'attention', detail: 'Login to hpc' } }) }], 'attention'],
    ['Slack refused its token', [{ type: 'status', status: snapshot({ slack: { state: 'attention', detail: 'invalid_auth' } }) }], 'attention'],
    ['attention outranks failures and running jobs', [{ type: 'job-ended', jobId: '1', outcome: 'failed' }, { type: 'status', status: snapshot({ ssh: { state: 'disconnected' }, jobs: { running: [job('2')] } }) }], 'attention'],
    ['Slack merely disconnected (it reconnects by itself)', [{ type: 'status', status: snapshot({ slack: { state: 'disconnected' } }) }], 'idle'],
  ];
  it.each(cases)('%s -> %s', (_name, events, icon) => {
    expect(trayView(run(events), 0).icon).toBe(icon);
  });
});

describe('tray view', () => {
  it('says it all in the tooltip and keeps the macOS title short', () => {
    const model = run([
      { type: 'status', status: snapshot({ jobs: { running: [job('1'), job('2'), job('3')] } }) },
      { type: 'job-ended', jobId: '7', outcome: 'succeeded' },
      { type: 'job-ended', jobId: '8', outcome: 'succeeded' },
      { type: 'job-ended', jobId: '9', outcome: 'failed' },
      { type: 'pause', until: 1_000 },
    ]);
    expect(trayView(model, 0)).toEqual({
      icon: 'failed',
      tooltip: 'HPC Relay\n3 jobs running\n1 job failed\n2 jobs finished\nNotifications paused',
      title: '▸3 ✓2 ✗1',
      badge: 3,
    });
    // The pause ends by itself.
    expect(trayView(model, 1_000).tooltip).not.toMatch(/paused/);
  });

  it('names what needs attention', () => {
    expect(trayView(run([{ type: 'status', status: snapshot({ ssh: { state: 'attention', detail: 'Login to hpc' } }) }]), 0).tooltip).toBe('HPC Relay\nCluster: Login to hpc');
    expect(trayView(run([{ type: 'status', status: snapshot({ ssh: { state: 'disconnected', detail: 'x' } }) }]), 0).tooltip).toBe('HPC Relay\nCluster: disconnected');
  });

  it('is empty when idle', () => {
    expect(trayView(run([]), 0)).toEqual({ icon: 'idle', tooltip: 'HPC Relay', title: '', badge: 0 });
  });

  it('returns the same model for events that change nothing', () => {
    const model = run([]);
    expect(reduceTray(model, { type: 'all-seen' })).toBe(model);
    expect(reduceTray(model, { type: 'job-seen', jobId: 'nope' })).toBe(model);
  });
});

describe('tray menu', () => {
  const actions = (items: TrayMenuItem[]) => items.flatMap((i) => (i.kind === 'action' ? [[i.label, i.action]] : []));
  const infos = (items: TrayMenuItem[]) => items.flatMap((i) => (i.kind === 'info' ? [i.label] : []));

  it('lists the running jobs, each opening its own page, with status at a glance on top', () => {
    const model = run([
      { type: 'status', status: snapshot({ slack: { state: 'connecting' }, model: { state: 'attention', detail: 'budget reached' }, jobs: { running: [job('4242', 'train-cnn'), job('4243_1', 'sweep  lr=0.1', 'PENDING')] } }) },
      { type: 'job-ended', jobId: '9', outcome: 'failed' },
    ]);
    const menu = buildTrayMenu(model, 0, formatTime);
    expect(infos(menu)).toEqual(['Cluster: connected', 'Slack: connecting…', 'Model: needs you: budget reached', 'Jobs: 2 running, 1 failed']);
    expect(actions(menu)).toEqual([
      ['train-cnn — 4242 (RUNNING)', { type: 'open-job', jobId: '4242' }],
      ['sweep lr=0.1 — 4243_1 (PENDING)', { type: 'open-job', jobId: '4243_1' }],
      ['Disconnect from the cluster', { type: 'disconnect' }],
      ['Open HPC Relay', { type: 'open' }],
      ['Run Doctor…', { type: 'doctor' }],
      ['Pause notifications for 1 hour', { type: 'pause-notifications' }],
      ['Quit HPC Relay', { type: 'quit' }],
    ]);
    expect(menu.at(-2)).toEqual({ kind: 'separator' });
  });

  it('sums up a long job list in one item and shortens long names', () => {
    const running = Array.from({ length: 25 }, (_, i) => job(String(i), i === 0 ? 'x'.repeat(100) : `task-${i}`));
    const menu = buildTrayMenu(run([{ type: 'status', status: snapshot({ jobs: { running } }) }]), 0, formatTime);
    const jobItems = actions(menu).filter(([, a]) => (a as { type: string }).type === 'open-job');
    expect(jobItems).toHaveLength(MAX_LISTED_JOBS);
    expect(String(jobItems[0]?.[0])).toMatch(/^x{39}… — 0 \(RUNNING\)$/);
    expect(actions(menu)).toContainEqual(['All 25 jobs…', { type: 'open-jobs' }]);
  });

  it('offers Connect when the link is down, Set up when there is no cluster', () => {
    const down = buildTrayMenu(run([{ type: 'status', status: snapshot({ ssh: { state: 'disconnected' } }) }]), 0, formatTime);
    expect(actions(down)).toContainEqual(['Connect to the cluster', { type: 'connect' }]);
    const attention = buildTrayMenu(run([{ type: 'status', status: snapshot({ ssh: { state: 'attention', detail: 'host key changed' } }) }]), 0, formatTime);
    expect(actions(attention)).toContainEqual(['Connect to the cluster', { type: 'connect' }]);
    const none = buildTrayMenu(run([{ type: 'status', status: snapshot({ ssh: off, jobs: null }) }]), 0, formatTime);
    expect(actions(none)).toContainEqual(['Set up the cluster…', { type: 'setup' }]);
    expect(infos(none)).toContain('Jobs: not tracked yet');
  });

  it('offers to resume paused notifications, saying until when', () => {
    const menu = buildTrayMenu(run([{ type: 'pause', until: Date.UTC(2026, 0, 1, 14, 30) }]), Date.UTC(2026, 0, 1, 13, 30), formatTime);
    expect(actions(menu)).toContainEqual(['Resume notifications (paused until 14:30)', { type: 'resume-notifications' }]);
  });
});

describe('shell state', () => {
  function fakeClock(): Clock & { advance(ms: number): void } {
    let now = 1_000_000;
    let timers: { at: number; fn: () => void; live: boolean }[] = [];
    return {
      now: () => now,
      setTimeout(fn, ms) {
        const t = { at: now + ms, fn, live: true };
        timers.push(t);
        return { cancel: () => (t.live = false) };
      },
      advance(ms) {
        now += ms;
        const due = timers.filter((t) => t.live && t.at <= now);
        timers = timers.filter((t) => !due.includes(t));
        for (const t of due) t.fn();
      },
    };
  }

  it('ends the 1-hour pause by itself and tells the tray each time', () => {
    const clock = fakeClock();
    const changes: (number | null)[] = [];
    const shell = createShellState(snapshot(), clock, (m) => changes.push(m.pausedUntil));
    shell.pauseNotifications();
    expect(shell.notificationsPaused()).toBe(true);
    expect(shell.status().notificationsPausedUntil).toBe(1_000_000 + PAUSE_MS);
    clock.advance(PAUSE_MS - 1);
    expect(shell.notificationsPaused()).toBe(true);
    clock.advance(1);
    expect(shell.notificationsPaused()).toBe(false);
    expect(changes).toEqual([1_000_000 + PAUSE_MS, null]);
  });

  it('gives the window the status it shows', () => {
    const shell = createShellState(snapshot({ ssh: { state: 'disconnected', detail: 'gone' }, jobs: null }), fakeClock(), () => undefined);
    shell.dispatch({ type: 'job-ended', jobId: '5', outcome: 'failed' });
    expect(shell.status()).toEqual({
      ssh: { state: 'disconnected', detail: 'gone' },
      slack: { state: 'off', detail: null },
      model: { state: 'off', detail: null },
      jobs: { known: false, running: [] },
      unseen: { succeeded: 0, failed: 1 },
      notificationsPausedUntil: null,
    });
  });

  it('does not tell anyone about events that change nothing', () => {
    let changes = 0;
    const shell = createShellState(snapshot(), fakeClock(), () => changes++);
    shell.dispatch({ type: 'all-seen' });
    expect(changes).toBe(0);
  });
});
