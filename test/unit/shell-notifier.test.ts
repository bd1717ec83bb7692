/** Native notifications (mocked electron): when they show, what a click opens, and the navigator behind it. */
import { describe, expect, it, vi } from 'vitest';
import type { NavTarget } from '../../preload/contract.js';
import { createNavigator, targetFromNotification } from '../../main/app/navigator.js';
import type { FakeElectron } from '../helpers/fake-electron.js';

const fake = vi.hoisted(() => ({ electron: null as unknown as FakeElectron }));
vi.mock('electron', async () => {
  const { createFakeElectron } = await import('../helpers/fake-electron.js');
  fake.electron = createFakeElectron();
  return fake.electron;
});

const { ElectronNotifier } = await import('../../main/adapters/electron-notifier.js');

function setup(opts: { tray?: boolean; paused?: boolean } = {}) {
  const ended: [string, string][] = [];
  const clicked: NavTarget[] = [];
  const notifier = new ElectronNotifier({
    trayEnabled: () => opts.tray ?? true,
    paused: () => opts.paused ?? false,
    onJobEnded: (jobId, outcome) => ended.push([jobId, outcome]),
    onClick: (target) => clicked.push(target),
  });
  return { notifier, ended, clicked };
}

describe('ElectronNotifier', () => {
  it('shows a job end and opens that job on click', async () => {
    const { notifier, ended, clicked } = setup();
    await notifier.notify({ id: 'a', title: 'train-cnn COMPLETED', body: 'val acc 0.91 in 12 min', target: 'job:4242', outcome: 'succeeded' });
    const shown = fake.electron.notifications.at(-1);
    expect(shown?.shown).toBe(true);
    expect(shown?.options).toMatchObject({ title: 'train-cnn COMPLETED', body: 'val acc 0.91 in 12 min' });
    expect(ended).toEqual([['4242', 'succeeded']]);
    expect(notifier.showing).toBe(1);
    shown?.emit('click');
    expect(clicked).toEqual([{ view: 'job', jobId: '4242' }]);
    expect(notifier.showing).toBe(0);
  });

  it('counts the job end but shows nothing when notify.tray is off or notifications are paused', async () => {
    for (const opts of [{ tray: false }, { paused: true }]) {
      const before = fake.electron.notifications.length;
      const { notifier, ended } = setup(opts);
      await notifier.notify({ id: 'b', title: 't', body: 'b', target: 'job:1', outcome: 'failed' });
      expect(fake.electron.notifications.length).toBe(before);
      expect(ended).toEqual([['1', 'failed']]);
    }
  });

  it('does nothing where the OS has no notifications', async () => {
    const { FakeNotification } = await import('../helpers/fake-electron.js');
    FakeNotification.supported = false;
    try {
      const before = fake.electron.notifications.length;
      await setup().notifier.notify({ id: 'c', title: 't', body: 'b' });
      expect(fake.electron.notifications.length).toBe(before);
    } finally {
      FakeNotification.supported = true;
    }
  });

  it('remembers why the last notification failed (for the doctor) until one shows', async () => {
    const { notifier } = setup();
    expect(notifier.lastFailure()).toBeNull();
    await notifier.notify({ id: 'f', title: 't', body: 'b', target: 'job:3' });
    fake.electron.notifications.at(-1)?.emit('failed', {}, 'Toast notifications are disabled');
    expect(notifier.lastFailure()).toBe('Toast notifications are disabled');
    expect(notifier.showing).toBe(0);
    await notifier.notify({ id: 'g', title: 't', body: 'b', target: 'job:4' });
    fake.electron.notifications.at(-1)?.emit('show');
    expect(notifier.lastFailure()).toBeNull();
  });

  it('lets go of a notification once it is closed', async () => {
    const { notifier } = setup();
    await notifier.notify({ id: 'd', title: 't', body: 'b', target: 'job:2' });
    fake.electron.notifications.at(-1)?.emit('close');
    expect(notifier.showing).toBe(0);
  });

  it('does not count notifications that are not job ends', async () => {
    const { notifier, ended, clicked } = setup();
    await notifier.notify({ id: 'e', title: 'Monitor', body: 'loss 0.2 at epoch 5', target: 'job:9' });
    await notifier.notify({ id: 'f', title: 'Slack', body: 'connected' });
    expect(ended).toEqual([]);
    fake.electron.notifications.at(-1)?.emit('click');
    expect(clicked).toEqual([{ view: 'jobs' }]);
  });
});

describe('targetFromNotification', () => {
  it.each([
    ['job:1234', { view: 'job', jobId: '1234' }],
    ['job:1234_7', { view: 'job', jobId: '1234_7' }],
    ['cron:m-7f3a', { view: 'monitor', monitorId: 'm-7f3a' }],
    ['doctor', { view: 'doctor' }],
    ['job:', { view: 'jobs' }],
    ['job:../../etc', { view: 'jobs' }],
    ['javascript:alert(1)', { view: 'jobs' }],
    [undefined, { view: 'jobs' }],
  ])('%s -> %j', (target, nav) => {
    expect(targetFromNotification(target)).toEqual(nav);
  });
});

describe('navigator', () => {
  function setupNav() {
    const sent: NavTarget[] = [];
    let shown = 0;
    const nav = createNavigator({ showWindow: () => shown++, send: (t) => sent.push(t) });
    return { nav, sent, shown: () => shown };
  }

  it('holds a target until the page asks, then pushes', () => {
    const { nav, sent, shown } = setupNav();
    nav.go({ view: 'job', jobId: '1' });
    nav.go({ view: 'job', jobId: '2' });
    expect(shown()).toBe(2);
    expect(sent).toEqual([]);
    expect(nav.take()).toEqual({ view: 'job', jobId: '2' });
    expect(nav.take()).toBeNull();
    nav.go({ view: 'doctor' });
    expect(sent).toEqual([{ view: 'doctor' }]);
  });

  it('holds targets again while the page reloads', () => {
    const { nav, sent } = setupNav();
    nav.take();
    nav.pageGone();
    nav.go({ view: 'setup' });
    expect(sent).toEqual([]);
    expect(nav.take()).toEqual({ view: 'setup' });
  });
});
