/**
 * The core's Notifier as native desktop notifications. The notify dispatcher calls it once per
 * job end (exactly-once is the dispatcher's job, from the outbox); here every job end counts
 * toward the tray's unseen badge, and a notification is shown unless `notify.tray` is off or the
 * user paused notifications for an hour. Resolving counts as delivered for the tray channel: a
 * suppressed notification is one the user chose not to see, not one to retry.
 *
 * A click opens the window on the notification's target (`job:1234` -> that job's page).
 */
import { Notification } from 'electron';
import type { Notification as RelayNotification, Notifier } from '../core/ports.js';
import type { NavTarget } from '../../preload/contract.js';
import { targetFromNotification } from '../app/navigator.js';
import type { JobOutcome } from '../app/tray-state.js';

export interface ElectronNotifierDeps {
  /** notify.tray, read at each notification (the user may change it any time). */
  trayEnabled(): boolean;
  paused(): boolean;
  /** A job ended: the tray counts it as unseen. */
  onJobEnded(jobId: string, outcome: JobOutcome): void;
  /** The user clicked a notification. */
  onClick(target: NavTarget): void;
}

export class ElectronNotifier implements Notifier {
  /**
   * Shown notifications are held until closed or clicked: a garbage-collected Notification
   * loses its click handler (and on Windows, its toast's activation).
   */
  private readonly live = new Set<Notification>();
  /** Why the last notification could not be shown (Electron's 'failed', Windows), for the doctor; cleared by one that shows. */
  private failure: string | null = null;

  constructor(private readonly deps: ElectronNotifierDeps) {}

  async notify(n: RelayNotification): Promise<void> {
    const target = targetFromNotification(n.target);
    if (n.outcome && target.view === 'job') this.deps.onJobEnded(target.jobId, n.outcome);
    if (!this.deps.trayEnabled() || this.deps.paused() || !Notification.isSupported()) return;
    const shown = new Notification({ title: n.title, body: n.body, silent: false });
    this.live.add(shown);
    const forget = (): void => {
      this.live.delete(shown);
    };
    shown.on('click', () => {
      forget();
      this.deps.onClick(target);
    });
    shown.on('close', forget);
    shown.on('show', () => { this.failure = null; });
    shown.on('failed', (_event: unknown, error: unknown) => {
      forget();
      this.failure = typeof error === 'string' && error ? error : 'the system refused it';
    });
    shown.show();
  }

  /** Why the last notification could not be shown; null when it showed (or none was tried). */
  lastFailure(): string | null {
    return this.failure;
  }

  /** How many notifications are still on screen (tests, and a bound on what is held). */
  get showing(): number {
    return this.live.size;
  }
}
