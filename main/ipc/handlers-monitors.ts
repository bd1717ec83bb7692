/**
 * The window's monitor channels over the core's CronService (the same one the CLI, Slack's
 * `/hpc cron …` and the scheduler use). No Electron here.
 */
import type { ChannelsFor, MonitorView } from '../../preload/contract.js';
import { cronServiceFor } from '../core/cron/cron-runtime.js';
import type { MonitorSummary } from '../core/cron/cron-service.js';
import type { Core } from '../core/index.js';
import type { InvokeHandler } from './invoke.js';

export type MonitorHandlers = { [C in Extract<ChannelsFor<'window'>, `monitors:${string}`>]: InvokeHandler<C> };

export interface MonitorHandlerDeps {
  core(): Promise<Core>;
}

export function monitorHandlers({ core }: MonitorHandlerDeps): MonitorHandlers {
  const cron = async () => cronServiceFor(await core());
  const list = async (): Promise<MonitorView[]> => (await (await cron()).list()).map(monitorView);
  return {
    'monitors:list': list,
    'monitors:create': async ({ schedule, kind, to, name, prompt }) => {
      const m = await (await cron()).create({ schedule, kind, to, ...(name?.trim() ? { name } : {}), ...(prompt?.trim() ? { prompt } : {}) });
      return monitorView(m);
    },
    'monitors:pause': async (id) => {
      await (await cron()).pause(id);
      return list();
    },
    'monitors:resume': async (id) => {
      await (await cron()).resume(id);
      return list();
    },
    'monitors:remove': async (id) => {
      await (await cron()).remove(id);
      return list();
    },
  };
}

function monitorView(m: MonitorSummary): MonitorView {
  return {
    id: m.id, name: m.name, schedule: m.schedule, description: m.description, timezone: m.timezone, kind: m.kind, prompt: m.prompt, target: m.target,
    targetDescription: m.targetDescription, status: m.status, nextRunAt: m.nextRunAt, lastOutcome: m.lastOutcome,
    lastRunAt: m.lastRun ? (m.lastRun.endedAt ?? m.lastRun.startedAt ?? m.lastRun.plannedAt) : null, costPerRun: m.costPerRun,
  };
}
