/**
 * Start at login, hidden: the app comes up in the tray without opening its window. macOS and
 * Windows only (Electron's login items); a checkout never registers itself (it would register the
 * bare Electron binary).
 */
import type { App } from 'electron';

/** The argument Windows' login item passes, and that `--hidden` on any command line honours. */
export const HIDDEN_ARG = '--hidden';

export function applyLoginItem(app: Pick<App, 'isPackaged' | 'setLoginItemSettings'>, platform: NodeJS.Platform, openAtLogin: boolean): boolean {
  if (!app.isPackaged || (platform !== 'darwin' && platform !== 'win32')) return false;
  app.setLoginItemSettings({ openAtLogin, openAsHidden: true, args: [HIDDEN_ARG] });
  return true;
}

/** Started at login (or with --hidden): stay in the tray, open no window. */
export function startedHidden(app: Pick<App, 'getLoginItemSettings'>, argv: readonly string[], platform: NodeJS.Platform): boolean {
  if (argv.includes(HIDDEN_ARG)) return true;
  if (platform !== 'darwin') return false;
  const settings = app.getLoginItemSettings();
  return settings.wasOpenedAsHidden || settings.wasOpenedAtLogin;
}
