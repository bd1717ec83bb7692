/**
 * What the tray shows, as a pure state machine: events (a status snapshot from the core, a job
 * that ended, the user looking, notifications paused) go in through `reduceTray`; `trayView`
 * says which icon, tooltip, title and badge follow. No Electron here, so it is tested as a table.
 *
 * The icon, most urgent first:
 * - `attention`: the cluster link is configured but down, or anything waits for the user (a 2FA
 *   prompt, a changed host key, a refused Slack token);
 * - `failed`: a job failed since the user last looked;
 * - `running`: jobs are running (the count is in the title on macOS and in the tooltip);
 * - `idle`: otherwise.
 */
import type { LinkStatus, RunningJob, StatusSnapshot } from '../core/ports.js';

export type JobOutcome = 'succeeded' | 'failed';

export interface TrayModel {
  status: StatusSnapshot;
  /** Jobs that ended since the user last looked, by job id. */
  unseen: Readonly<Record<string, JobOutcome>>;
  /** Notifications are paused until this time (ms since the epoch). */
  pausedUntil: number | null;
}

export type TrayEvent =
  | { type: 'status'; status: StatusSnapshot }
  | { type: 'job-ended'; jobId: string; outcome: JobOutcome }
  | { type: 'job-seen'; jobId: string }
  | { type: 'all-seen' }
  | { type: 'pause'; until: number }
  | { type: 'unpause' };

export type TrayIcon = 'idle' | 'running' | 'failed' | 'attention';

export interface TrayView {
  icon: TrayIcon;
  tooltip: string;
  /** Text beside the icon (macOS menu bar only): running count and unseen results. */
  title: string;
  /** Completions not yet seen. */
  badge: number;
}

export const PAUSE_MS = 60 * 60 * 1000;

export function initialTrayModel(status: StatusSnapshot): TrayModel {
  return { status, unseen: {}, pausedUntil: null };
}

export function reduceTray(model: TrayModel, event: TrayEvent): TrayModel {
  switch (event.type) {
    case 'status':
      return { ...model, status: event.status };
    case 'job-ended':
      return { ...model, unseen: { ...model.unseen, [event.jobId]: event.outcome } };
    case 'job-seen': {
      if (!Object.hasOwn(model.unseen, event.jobId)) return model;
      const unseen = { ...model.unseen };
      Reflect.deleteProperty(unseen, event.jobId);
      return { ...model, unseen };
    }
    case 'all-seen':
      return Object.keys(model.unseen).length === 0 ? model : { ...model, unseen: {} };
    case 'pause':
      return { ...model, pausedUntil: event.until };
    case 'unpause':
      return { ...model, pausedUntil: null };
  }
}

export function isPaused(model: TrayModel, now: number): boolean {
  return model.pausedUntil !== null && now < model.pausedUntil;
}

export function unseenCounts(model: TrayModel): { succeeded: number; failed: number } {
  const outcomes = Object.values(model.unseen);
  const failed = outcomes.filter((o) => o === 'failed').length;
  return { succeeded: outcomes.length - failed, failed };
}

export function runningJobs(model: TrayModel): RunningJob[] {
  return model.status.jobs?.running ?? [];
}

/** The link states a person must act on. A configured cluster that is down counts. */
export function needsAttention(status: StatusSnapshot): boolean {
  const links: LinkStatus[] = [status.ssh, status.slack, status.model];
  return links.some((l) => l.state === 'attention') || status.ssh.state === 'disconnected';
}

export function trayIcon(model: TrayModel): TrayIcon {
  if (needsAttention(model.status)) return 'attention';
  if (unseenCounts(model).failed > 0) return 'failed';
  if (runningJobs(model).length > 0) return 'running';
  return 'idle';
}

export function trayView(model: TrayModel, now: number): TrayView {
  const icon = trayIcon(model);
  const running = runningJobs(model).length;
  const { succeeded, failed } = unseenCounts(model);
  const lines = ['HPC Relay'];
  if (icon === 'attention') lines.push(attentionLine(model.status));
  if (running > 0) lines.push(`${running} ${running === 1 ? 'job' : 'jobs'} running`);
  if (failed > 0) lines.push(`${failed} ${failed === 1 ? 'job' : 'jobs'} failed`);
  if (succeeded > 0) lines.push(`${succeeded} ${succeeded === 1 ? 'job' : 'jobs'} finished`);
  if (isPaused(model, now)) lines.push('Notifications paused');
  const title = [running > 0 ? `▸${running}` : '', succeeded > 0 ? `✓${succeeded}` : '', failed > 0 ? `✗${failed}` : '']
    .filter(Boolean)
    .join(' ');
  return { icon, tooltip: lines.join('\n'), title, badge: succeeded + failed };
}

function attentionLine(status: StatusSnapshot): string {
  if (status.ssh.state === 'attention') return `Cluster: ${status.ssh.detail ?? 'needs you'}`;
  if (status.ssh.state === 'disconnected') return 'Cluster: disconnected';
  if (status.slack.state === 'attention') return 'Slack needs attention';
  return 'The model connection needs attention';
}

/** Words for one link in the menu's status lines. */
export function linkLabel(status: LinkStatus): string {
  switch (status.state) {
    case 'off':
      return 'off';
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return 'connected';
    case 'disconnected':
      return 'disconnected';
    case 'attention':
      return status.detail ? `needs you: ${status.detail}` : 'needs you';
  }
}
