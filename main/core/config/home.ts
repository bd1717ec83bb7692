import os from 'node:os';
import path from 'node:path';

export const PRODUCT_NAME = 'HPC Relay';

/**
 * Where settings, the database and logs live: HPC_RELAY_HOME when set, else the directory
 * Electron uses as `userData` for this product on this platform, so the app and the CLI share it.
 */
export function settingsHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const override = env.HPC_RELAY_HOME?.trim();
  if (override) return path.resolve(override);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
}

/** Expands a leading ~ to the local home directory (for local paths such as key files). */
export function expandHome(p: string, home = os.homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}
