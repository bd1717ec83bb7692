/**
 * Routes the window to a job, the doctor, setup, … from outside it (a tray item, a notification
 * click). A window that is still loading cannot hear a push yet, so the target waits until the
 * renderer, once it listens for `navigate`, asks for it (`navigation:take`); from then on targets
 * are pushed. A page that loads again listens again only after it asks again.
 */
import type { NavTarget } from '../../preload/contract.js';

export interface Navigator {
  /** Shows the window and routes it to the target. */
  go(target: NavTarget): void;
  /** The renderer listens now: hands it what waited, if anything. */
  take(): NavTarget | null;
  /** The window's page (re)loads, or the window is gone: hold targets until it asks again. */
  pageGone(): void;
}

export interface NavigatorDeps {
  showWindow(): void;
  send(target: NavTarget): void;
}

export function createNavigator({ showWindow, send }: NavigatorDeps): Navigator {
  let listening = false;
  let pending: NavTarget | null = null;
  return {
    go(target) {
      showWindow();
      if (listening) send(target);
      else pending = target;
    },
    take() {
      listening = true;
      const target = pending;
      pending = null;
      return target;
    },
    pageGone() {
      listening = false;
    },
  };
}

/**
 * A notification's target as a place in the window: `job:1234` (the notify dispatcher),
 * `cron:ID` (a monitor's report), `doctor`; anything else opens the job list.
 */
export function targetFromNotification(target: string | undefined): NavTarget {
  const m = /^(job|cron):([A-Za-z0-9_.+-]{1,64})$/.exec(target ?? '');
  if (m?.[1] === 'job' && m[2]) return { view: 'job', jobId: m[2] };
  if (m?.[1] === 'cron' && m[2]) return { view: 'monitor', monitorId: m[2] };
  return target === 'doctor' ? { view: 'doctor' } : { view: 'jobs' };
}
