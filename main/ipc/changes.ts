/**
 * Where the `data:changed` event comes from: the core's job transitions (the job tracker's
 * `transition` events, from the poll tick, the events watcher, a cancel) and its open approvals
 * (opened, decided here or in Slack, expired: the Slack hub). What happens within a short moment
 * goes out as one event, so a tick that moves twenty jobs makes the window read its list once.
 * No Electron here: main/index.ts sends the events to the window with push(), the renderer tests
 * into their browser page.
 */
import type { DataChanged } from '../../preload/contract.js';
import { describeError } from '../core/errors.js';
import type { Core } from '../core/index.js';
import { slackHub } from '../core/slack/wiring.js';
import type { Transition } from '../core/store/job-store.js';

export interface ChangeFeedOptions {
  /** How long changes are gathered into one event (ms). */
  gatherMs?: number;
}

/** Calls `send` when jobs or approvals change in `core`; returns a function that stops it. */
export function watchChanges(core: Core, send: (change: DataChanged) => void, { gatherMs = 100 }: ChangeFeedOptions = {}): () => void {
  let jobIds = new Set<string>();
  let approvals = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = (): void => {
    timer = null;
    const change: DataChanged = { jobIds: [...jobIds], approvals };
    jobIds = new Set();
    approvals = false;
    try {
      send(change);
    } catch (e) {
      core.logger.warn('the window was not told of a change', { error: describeError(e) });
    }
  };
  const soon = (): void => {
    if (timer) return;
    timer = setTimeout(flush, gatherMs);
    timer.unref?.();
  };

  const onTransition = (t: Transition): void => {
    jobIds.add(t.jobKey);
    soon();
  };
  const tracker = core.jobs().tracker;
  tracker.on('transition', onTransition);
  const stopApprovals = slackHub(core).onApprovalsChanged(() => {
    approvals = true;
    soon();
  });

  return () => {
    tracker.off('transition', onTransition);
    stopApprovals();
    if (timer) clearTimeout(timer);
    timer = null;
  };
}
