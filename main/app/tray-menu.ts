/**
 * The tray menu as data, built from the tray model: status at a glance, the running jobs, then
 * the actions. main/app/tray.ts turns it into an Electron menu; tests read it directly.
 */
import { isPaused, linkLabel, runningJobs, unseenCounts } from './tray-state.js';
import type { TrayModel } from './tray-state.js';

export type TrayAction =
  | { type: 'open' }
  | { type: 'open-job'; jobId: string }
  | { type: 'open-jobs' }
  | { type: 'connect' }
  | { type: 'disconnect' }
  | { type: 'setup' }
  | { type: 'doctor' }
  | { type: 'pause-notifications' }
  | { type: 'resume-notifications' }
  | { type: 'quit' };

export type TrayMenuItem =
  | { kind: 'info'; label: string }
  | { kind: 'action'; label: string; action: TrayAction }
  | { kind: 'separator' };

/** More jobs than this are summed up in one "all jobs" item. */
export const MAX_LISTED_JOBS = 10;
const MAX_NAME = 40;

export function buildTrayMenu(model: TrayModel, now: number, formatTime: (ms: number) => string): TrayMenuItem[] {
  const { ssh, slack, model: llm } = model.status;
  const jobs = runningJobs(model);
  const items: TrayMenuItem[] = [
    { kind: 'info', label: `Cluster: ${linkLabel(ssh)}` },
    { kind: 'info', label: `Slack: ${linkLabel(slack)}` },
    { kind: 'info', label: `Model: ${linkLabel(llm)}` },
    { kind: 'info', label: jobsLine(model) },
    { kind: 'separator' },
  ];

  if (jobs.length > 0) {
    for (const job of jobs.slice(0, MAX_LISTED_JOBS)) {
      items.push({ kind: 'action', label: `${shorten(job.name)} — ${job.id} (${job.state})`, action: { type: 'open-job', jobId: job.id } });
    }
    if (jobs.length > MAX_LISTED_JOBS) {
      items.push({ kind: 'action', label: `All ${jobs.length} jobs…`, action: { type: 'open-jobs' } });
    }
    items.push({ kind: 'separator' });
  }

  if (ssh.state === 'off') items.push({ kind: 'action', label: 'Set up the cluster…', action: { type: 'setup' } });
  else if (ssh.state === 'connected' || ssh.state === 'connecting') items.push({ kind: 'action', label: 'Disconnect from the cluster', action: { type: 'disconnect' } });
  else items.push({ kind: 'action', label: 'Connect to the cluster', action: { type: 'connect' } });

  items.push(
    { kind: 'action', label: 'Open HPC Relay', action: { type: 'open' } },
    { kind: 'action', label: 'Run Doctor…', action: { type: 'doctor' } },
    isPaused(model, now) && model.pausedUntil !== null
      ? { kind: 'action', label: `Resume notifications (paused until ${formatTime(model.pausedUntil)})`, action: { type: 'resume-notifications' } }
      : { kind: 'action', label: 'Pause notifications for 1 hour', action: { type: 'pause-notifications' } },
    { kind: 'separator' },
    { kind: 'action', label: 'Quit HPC Relay', action: { type: 'quit' } },
  );
  return items;
}

function jobsLine(model: TrayModel): string {
  if (model.status.jobs === null) return 'Jobs: not tracked yet';
  const running = runningJobs(model).length;
  const { succeeded, failed } = unseenCounts(model);
  const parts = [`${running} running`];
  if (failed > 0) parts.push(`${failed} failed`);
  if (succeeded > 0) parts.push(`${succeeded} finished`);
  return `Jobs: ${parts.join(', ')}`;
}

/** Job names come from scripts and Slack: one line, and short enough for a menu. */
function shorten(name: string): string {
  const one = name.replace(/\s+/g, ' ').trim() || '(unnamed)';
  return one.length > MAX_NAME ? `${one.slice(0, MAX_NAME - 1)}…` : one;
}
