/**
 * Files the shell needs at run time, for a checkout (`npm start`) and for a packaged app.
 * electron-builder copies assets/tray to <resources>/tray (extraResources in electron-builder.yml).
 */
import { join } from 'node:path';
import type { App } from 'electron';

type AppPaths = Pick<App, 'isPackaged' | 'getAppPath'>;

export function trayIconDir(app: AppPaths, resourcesPath: string): string {
  return app.isPackaged ? join(resourcesPath, 'tray') : join(app.getAppPath(), 'assets', 'tray');
}

/**
 * better-sqlite3's `nativeBinding` for this runtime. A checkout keeps the Node build in
 * node_modules (tests, CLI) and an Electron build here, made by scripts/electron-native.mjs
 * (which computes the same path); a packaged app has electron-builder's rebuild in place.
 */
export function sqliteNativeBinding(app: AppPaths): string | undefined {
  return app.isPackaged ? undefined : join(app.getAppPath(), 'build', 'electron-native', 'better_sqlite3.node');
}
