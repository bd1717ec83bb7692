/**
 * Whether the app is on its way out: set by the tray's Quit, the OS (logout, shutdown) or
 * Cmd+Q, all of which emit before-quit. Windows consult it to tell "close" from "quit".
 */
import type { App } from 'electron';

export function trackQuitting(app: Pick<App, 'on'>): () => boolean {
  let quitting = false;
  app.on('before-quit', () => {
    quitting = true;
  });
  return () => quitting;
}
