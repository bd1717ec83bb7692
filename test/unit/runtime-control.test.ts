/** Runtime control the tray and the settings window need: stop/restart one service, refresh, config changes. */
import { describe, expect, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { silentLogger } from '../../main/core/log/logger.js';
import { Runtime, type Service, type ServiceFactory } from '../../main/core/runtime/runtime.js';
import { createStatusBoard, sshLinkStatus } from '../../main/core/runtime/status-board.js';

const core = { logger: silentLogger } as unknown as Core;

function recorder() {
  const log: string[] = [];
  let configured = true;
  const factory =
    (name: string, extra: Partial<Service> = {}): ServiceFactory =>
    async () => {
      if (name === 'link' && !configured) return null;
      log.push(`make ${name}`);
      return {
        name,
        async start() { log.push(`start ${name}`); },
        async stop() { log.push(`stop ${name}`); },
        async resume() { log.push(`resume ${name}`); },
        ...extra,
      };
    };
  return { log, factory, setConfigured: (v: boolean) => { configured = v; } };
}

describe('Runtime', () => {
  it('starts in order, resumes, stops in reverse', async () => {
    const r = recorder();
    const rt = new Runtime(core, [r.factory('link'), r.factory('slack')]);
    expect(await rt.start()).toEqual(['link', 'slack']);
    await rt.resume();
    await rt.stop();
    expect(r.log).toEqual(['make link', 'start link', 'make slack', 'start slack', 'resume link', 'resume slack', 'stop slack', 'stop link']);
    expect(rt.running()).toEqual([]);
  });

  it('stops one service and starts it again by name', async () => {
    const r = recorder();
    const rt = new Runtime(core, [r.factory('link'), r.factory('slack')]);
    await rt.start();
    expect(await rt.stopService('link')).toBe(true);
    expect(await rt.stopService('link')).toBe(false);
    expect(rt.running()).toEqual(['slack']);
    expect(await rt.restartService('link')).toBe(true);
    expect(rt.running()).toEqual(['link', 'slack']);
    expect(await rt.restartService('nope')).toBe(false);
  });

  it('gives a declining factory another chance on refresh and config changes', async () => {
    const r = recorder();
    r.setConfigured(false);
    const rt = new Runtime(core, [r.factory('link', { restartOn: ['cluster.'] }), r.factory('slack')]);
    expect(await rt.start()).toEqual(['slack']);
    expect(await rt.refresh()).toEqual(['slack']);
    r.setConfigured(true);
    expect(await rt.configChanged('cluster.host')).toEqual(['link', 'slack']);
    r.log.length = 0;
    // Only services built from the changed key restart.
    await rt.configChanged('cluster.port');
    expect(r.log).toEqual(['stop link', 'make link', 'start link']);
    r.log.length = 0;
    await rt.configChanged('notify.tray');
    expect(r.log).toEqual([]);
  });

  it('keeps going when a service fails to start, and tries it again on refresh', async () => {
    let fail = true;
    const flaky: ServiceFactory = async () => ({
      name: 'flaky',
      async start() { if (fail) throw new Error('no network'); },
      async stop() {},
    });
    const r = recorder();
    const rt = new Runtime(core, [flaky, r.factory('slack')]);
    expect(await rt.start()).toEqual(['slack']);
    fail = false;
    expect(await rt.refresh()).toEqual(['flaky', 'slack']);
  });

  it('does nothing more once stopped', async () => {
    const r = recorder();
    const rt = new Runtime(core, [r.factory('link')]);
    await rt.start();
    await rt.stop();
    expect(await rt.refresh()).toEqual([]);
    expect(await rt.configChanged('cluster.host')).toEqual([]);
    expect(await rt.restartService('link')).toBe(false);
  });

  it('runs operations one at a time', async () => {
    const r = recorder();
    let release: () => void = () => undefined;
    const slow: ServiceFactory = async () => ({
      name: 'slow',
      start: () => new Promise<void>((resolve) => { release = resolve; }),
      async stop() { r.log.push('stop slow'); },
    });
    const rt = new Runtime(core, [slow]);
    const started = rt.start();
    const stopped = rt.stop();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.log).toEqual([]);
    release();
    await Promise.all([started, stopped]);
    expect(r.log).toEqual(['stop slow']);
  });
});

describe('status board', () => {
  it('tells listeners about changes only, and hands out copies', () => {
    const board = createStatusBoard();
    const heard: string[] = [];
    const off = board.subscribe((s) => heard.push(s.ssh.state));
    board.publish({ ssh: sshLinkStatus({ kind: 'connecting' }) });
    board.publish({ ssh: { state: 'connecting' } });
    board.publish({ ssh: sshLinkStatus({ kind: 'prompting', message: 'Login to hpc' }) });
    expect(heard).toEqual(['connecting', 'attention']);
    expect(board.snapshot().ssh).toEqual({ state: 'attention', detail: 'Login to hpc' });
    board.snapshot().ssh.state = 'connected';
    expect(board.snapshot().ssh.state).toBe('attention');
    off();
    board.publish({ ssh: sshLinkStatus({ kind: 'disconnected', reason: 'the connection closed' }) });
    expect(heard).toHaveLength(2);
    expect(board.snapshot()).toEqual({ ssh: { state: 'disconnected', detail: 'the connection closed' }, slack: { state: 'off' }, model: { state: 'off' }, jobs: null });
  });

  it('survives a listener that throws', () => {
    const board = createStatusBoard();
    const heard: unknown[] = [];
    board.subscribe(() => { throw new Error('bug'); });
    board.subscribe((s) => heard.push(s.jobs));
    board.publish({ jobs: { running: [{ id: '12', name: 'train', state: 'RUNNING' }] } });
    expect(heard).toEqual([{ running: [{ id: '12', name: 'train', state: 'RUNNING' }] }]);
  });
});
