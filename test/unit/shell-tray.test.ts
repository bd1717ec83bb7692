/** The Electron tray drawn from the tray model (mocked electron): icons per state, menu, title and badge. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { StatusSnapshot } from '../../main/core/ports.js';
import type { TrayAction } from '../../main/app/tray-menu.js';
import { initialTrayModel, reduceTray } from '../../main/app/tray-state.js';
import type { TrayIcon } from '../../main/app/tray-state.js';
import type { FakeElectron, FakeTray } from '../helpers/fake-electron.js';

const fake = vi.hoisted(() => ({ electron: null as unknown as FakeElectron }));
vi.mock('electron', async () => {
  const { createFakeElectron } = await import('../helpers/fake-electron.js');
  fake.electron = createFakeElectron();
  return fake.electron;
});

const { createTray, trayIconPath, trayMenuTemplate } = await import('../../main/app/tray.js');

const assets = join(import.meta.dirname, '..', '..', 'assets', 'tray');
const status = (part: Partial<StatusSnapshot>): StatusSnapshot => ({ ssh: { state: 'connected' }, slack: { state: 'off' }, model: { state: 'off' }, jobs: { running: [] }, ...part });

function setup(platform: NodeJS.Platform) {
  const actions: TrayAction[] = [];
  const badges: number[] = [];
  const controller = createTray({ iconDir: assets, platform, onAction: (a) => actions.push(a), setBadgeCount: (n) => badges.push(n), formatTime: () => '14:30' });
  const tray = fake.electron.trays.at(-1) as FakeTray;
  return { controller, tray, actions, badges };
}

describe('tray icons', () => {
  it.each(['idle', 'running', 'failed', 'attention'] as TrayIcon[])('ships %s for macOS (template) and the others, at 1x and 2x', (icon) => {
    for (const platform of ['darwin', 'linux'] as const) {
      const file = trayIconPath(assets, platform, icon);
      expect(existsSync(file), file).toBe(true);
      expect(existsSync(file.replace(/\.png$/, '@2x.png'))).toBe(true);
      expect(file.endsWith('Template.png')).toBe(platform === 'darwin');
    }
  });
});

describe('createTray', () => {
  it('switches the icon with the state and rebuilds the menu from the job list', () => {
    const { controller, tray, actions } = setup('linux');
    expect(tray.image.path).toBe(join(assets, 'tray.png'));
    let model = reduceTray(initialTrayModel(status({})), { type: 'status', status: status({ jobs: { running: [{ id: '12', name: 'R&D run', state: 'RUNNING' }] } }) });
    controller.render(model, 0);
    expect(tray.image.path).toBe(join(assets, 'trayRunning.png'));
    expect(tray.tooltip).toBe('HPC Relay\n1 job running');
    const jobItem = tray.menu.find((i) => i.label?.startsWith('R&&D run'));
    expect(jobItem?.label).toBe('R&&D run — 12 (RUNNING)');
    jobItem?.click?.();
    expect(actions).toEqual([{ type: 'open-job', jobId: '12' }]);

    model = reduceTray(model, { type: 'status', status: status({ ssh: { state: 'disconnected' } }) });
    controller.render(model, 0);
    expect(tray.image.path).toBe(join(assets, 'trayAttention.png'));
    tray.menu.find((i) => i.label === 'Connect to the cluster')?.click?.();
    expect(actions.at(-1)).toEqual({ type: 'connect' });
  });

  it('opens the window on a plain click outside macOS', () => {
    const { tray, actions } = setup('win32');
    tray.emit('click');
    expect(actions).toEqual([{ type: 'open' }]);
  });

  it('puts the unseen count on the badge outside macOS, in the title on macOS', () => {
    const model = reduceTray(reduceTray(initialTrayModel(status({})), { type: 'job-ended', jobId: '1', outcome: 'failed' }), { type: 'job-ended', jobId: '2', outcome: 'succeeded' });
    const linux = setup('linux');
    linux.controller.render(model, 0);
    expect(linux.badges).toEqual([2]);
    expect(linux.tray.title).toBe('');
    expect(linux.tray.image.path).toBe(join(assets, 'trayFailed.png'));

    const mac = setup('darwin');
    mac.controller.render(model, 0);
    expect(mac.badges).toEqual([]);
    expect(mac.tray.title).toBe('✓1 ✗1');
    expect(mac.tray.image.path).toBe(join(assets, 'trayFailedTemplate.png'));
    mac.tray.emit('click');
    expect(mac.actions).toEqual([]);
  });

  it('stops drawing once destroyed', () => {
    const { controller, tray } = setup('linux');
    controller.destroy();
    expect(tray.destroyed).toBe(true);
    expect(() => controller.render(initialTrayModel(status({})), 0)).not.toThrow();
  });

  it('keeps & literal on macOS and greys out the status lines', () => {
    const template = trayMenuTemplate([{ kind: 'info', label: 'Jobs: A&B' }, { kind: 'separator' }], 'darwin', () => undefined);
    expect(template).toEqual([{ label: 'Jobs: A&B', enabled: false }, { type: 'separator' }]);
  });
});
