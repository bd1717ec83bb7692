/** One HPC Relay per user: a second launch shows the first one's window and exits. */
import type { App } from 'electron';

export function acquireSingleInstance(app: Pick<App, 'requestSingleInstanceLock' | 'on'>, onSecondInstance: () => void): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', onSecondInstance);
  return true;
}
