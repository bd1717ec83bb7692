/**
 * Quitting (the tray's Quit, Cmd+Q, logout) first lets the core's services finish what they are
 * doing — flush the outbox, close the SSH session and the Slack socket — but never for longer
 * than `timeoutMs`: an app that will not quit is worse than a service cut short.
 */
import type { App } from 'electron';

export interface GracefulQuitOptions {
  /** Stops the runtime and closes the core. */
  shutdown(): Promise<void>;
  timeoutMs: number;
  onTimeout(): void;
}

export function installGracefulQuit(app: Pick<App, 'on' | 'quit'>, { shutdown, timeoutMs, onTimeout }: GracefulQuitOptions): void {
  let phase: 'running' | 'stopping' | 'done' = 'running';
  app.on('before-quit', (event) => {
    if (phase === 'done') return;
    event.preventDefault();
    if (phase === 'stopping') return;
    phase = 'stopping';
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        onTimeout();
        resolve();
      }, timeoutMs);
    });
    void Promise.race([shutdown().catch(() => undefined), bound]).finally(() => {
      clearTimeout(timer);
      phase = 'done';
      app.quit();
    });
  });
}
