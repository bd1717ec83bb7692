/**
 * The one place the shell keeps its state: the tray model (tray-state.ts), fed by the core's
 * status board, job ends from the notifier, the user looking, and the 1-hour pause, which ends
 * by itself. Every change goes to `onChange` (the tray redraws, the window hears status:changed).
 */
import type { Status } from '../../preload/contract.js';
import type { Clock, LinkStatus, StatusSnapshot } from '../core/ports.js';
import { PAUSE_MS, initialTrayModel, isPaused, reduceTray, unseenCounts } from './tray-state.js';
import type { TrayEvent, TrayModel } from './tray-state.js';

export interface ShellState {
  model(): TrayModel;
  dispatch(event: TrayEvent): void;
  pauseNotifications(): void;
  notificationsPaused(): boolean;
  /** The window's view of it (status:get, status:changed). */
  status(): Status;
}

export function createShellState(initial: StatusSnapshot, clock: Clock, onChange: (model: TrayModel) => void): ShellState {
  let model = initialTrayModel(initial);
  let expiry: { cancel(): void } | null = null;

  const dispatch = (event: TrayEvent): void => {
    const next = reduceTray(model, event);
    if (next === model) return;
    model = next;
    if (event.type === 'pause' || event.type === 'unpause') {
      expiry?.cancel();
      expiry = event.type === 'pause' ? clock.setTimeout(() => dispatch({ type: 'unpause' }), Math.max(0, event.until - clock.now())) : null;
    }
    onChange(model);
  };

  return {
    model: () => model,
    dispatch,
    pauseNotifications: () => dispatch({ type: 'pause', until: clock.now() + PAUSE_MS }),
    notificationsPaused: () => isPaused(model, clock.now()),
    status: () => toStatus(model, clock.now()),
  };
}

export function toStatus(model: TrayModel, now: number): Status {
  const link = (l: LinkStatus) => ({ state: l.state, detail: l.detail ?? null });
  return {
    ssh: link(model.status.ssh),
    slack: link(model.status.slack),
    model: link(model.status.model),
    jobs: { known: model.status.jobs !== null, running: model.status.jobs?.running ?? [] },
    unseen: unseenCounts(model),
    notificationsPausedUntil: isPaused(model, now) ? model.pausedUntil : null,
  };
}
