/**
 * The one app window. It is created hidden and shown when ready; closing it only hides it,
 * because the app lives in the tray — only the tray's Quit (or the OS quitting) ends it.
 */
import { BrowserWindow } from 'electron';
import { secureWebPreferences } from './security.js';

export interface MainWindowOptions {
  url: string;
  preloadPath: string;
  /** Called before the page loads, so its first IPC message already finds it trusted. */
  onCreated(window: BrowserWindow): void;
  isQuitting(): boolean;
}

export function createMainWindow({ url, preloadPath, onCreated, isQuitting }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    title: 'HPC Relay',
    width: 960,
    height: 680,
    minWidth: 640,
    minHeight: 480,
    show: false,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  });
  onCreated(window);
  window.once('ready-to-show', () => window.show());
  window.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    window.hide();
  });
  window.loadURL(url).catch((e: unknown) => console.error(`window: could not load ${url}`, e));
  return window;
}

/**
 * Shows the window, creating it again if it was ever destroyed. `focusApp` brings the app
 * forward first: on macOS an app without a dock icon is not activated by showing a window.
 */
export function createWindowPresenter(
  create: () => BrowserWindow,
  focusApp: () => void = () => undefined,
): { show(): void; current(): BrowserWindow | null } {
  let window: BrowserWindow | null = null;
  return {
    show() {
      if (!window || window.isDestroyed()) window = create();
      if (window.isMinimized()) window.restore();
      focusApp();
      window.show();
      window.focus();
    },
    current: () => (window && !window.isDestroyed() ? window : null),
  };
}
