/** What each tray menu item does. */
import type { NavTarget } from '../../preload/contract.js';
import type { Runtime } from '../core/runtime/runtime.js';
import type { TrayAction } from './tray-menu.js';
import type { TrayEvent } from './tray-state.js';

/** The runtime's name for the SSH link service (clusterLinkService in main/core/runtime). */
export const CLUSTER_LINK_SERVICE = 'cluster-link';

export interface TrayActionDeps {
  showWindow(): void;
  navigate(target: NavTarget): void;
  dispatch(event: TrayEvent): void;
  pauseNotifications(): void;
  runtime(): Promise<Pick<Runtime, 'restartService' | 'stopService' | 'refresh'>>;
  quit(): void;
  onError(what: string, e: unknown): void;
}

export function createTrayActions(deps: TrayActionDeps): (action: TrayAction) => void {
  const withRuntime = (what: string, op: (r: Pick<Runtime, 'restartService' | 'stopService' | 'refresh'>) => Promise<unknown>): void => {
    void deps
      .runtime()
      .then(op)
      .catch((e: unknown) => deps.onError(what, e));
  };
  return (action) => {
    switch (action.type) {
      case 'open':
        deps.showWindow();
        return;
      case 'open-job':
        deps.dispatch({ type: 'job-seen', jobId: action.jobId });
        deps.navigate({ view: 'job', jobId: action.jobId });
        return;
      case 'open-jobs':
        deps.navigate({ view: 'jobs' });
        return;
      case 'setup':
        deps.navigate({ view: 'setup' });
        return;
      case 'doctor':
        deps.navigate({ view: 'doctor' });
        return;
      case 'connect':
        // Restart the link (a keeper that gave up on a host key or a refused login tries again);
        // if it never ran (stopped, or declined before), give every idle service its chance.
        withRuntime('connect', async (r) => {
          if (!(await r.restartService(CLUSTER_LINK_SERVICE))) await r.refresh();
        });
        return;
      case 'disconnect':
        withRuntime('disconnect', (r) => r.stopService(CLUSTER_LINK_SERVICE));
        return;
      case 'pause-notifications':
        deps.pauseNotifications();
        return;
      case 'resume-notifications':
        deps.dispatch({ type: 'unpause' });
        return;
      case 'quit':
        deps.quit();
        return;
    }
  };
}
