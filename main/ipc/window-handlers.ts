/**
 * What the app window's channels do, over the core. Arguments arrive already checked against
 * the contract (handle.ts); values are validated again by the core itself (a setting against its
 * schema, a token against its format), whose coded errors reach the window with their fix.
 * Secret values only ever go in: every answer about secrets is their status.
 */
import type { ChannelsFor, SecretStatusView, SettingEntry, SettingsView } from '../../preload/contract.js';
import type { AppInfo, Status } from '../../preload/contract.js';
import { SETTINGS, SETTING_KEYS, isSettingKey } from '../core/config/keys.js';
import type { SettingKey } from '../core/config/keys.js';
import { runDoctor, type DoctorCheck } from '../core/doctor/doctor.js';
import type { Core } from '../core/index.js';
import type { Runtime } from '../core/runtime/runtime.js';
import type { Navigator } from '../app/navigator.js';
import { userInfo } from 'node:os';
import { activityHandlers } from './handlers-activity.js';
import { approvalHandlers } from './handlers-approvals.js';
import { jobHandlers } from './handlers-jobs.js';
import { monitorHandlers } from './handlers-monitors.js';
import { setupHandlers } from './handlers-setup.js';
import type { InvokeHandler } from './invoke.js';

export type WindowHandlers = { [C in ChannelsFor<'window'>]: InvokeHandler<C> };

export interface WindowHandlerDeps {
  /** The core and its runtime, once the keychain has answered and they are built. */
  services(): Promise<{ core: Core; runtime: Runtime }>;
  appInfo(): AppInfo;
  status(): Status;
  navigator: Navigator;
  /** Where the bundled job templates are (default: found from a checkout, see templatesDir()). */
  templatesDir?: () => string;
  /** Opens a link in the system browser (shell.openExternal); only checked links are passed. */
  openExternal(url: string): Promise<void>;
  /** The name of the person at the window, for approvals decided there (default: the local user name). */
  windowUser?: () => string;
  /** Checks only the app can make (desktop notifications), run after the core's. */
  appChecks?: () => DoctorCheck[];
}

/** The local user's name, for approvals decided at the window. */
export function localUserName(): string {
  try {
    return userInfo().username || 'local user';
  } catch {
    return 'local user';
  }
}

/**
 * Every app-window channel. Electron-free (the Navigator is a type): the composition root
 * registers these over ipcMain, and the renderer tests bind the same functions into a browser
 * page against a real core.
 */
export function windowHandlers({ services, appInfo, status, navigator, templatesDir, openExternal, windowUser = localUserName, appChecks }: WindowHandlerDeps): WindowHandlers {
  const core = async (): Promise<Core> => (await services()).core;
  /** A change takes effect in the background: the reply does not wait for Slack or SSH to connect. */
  const changed = (key: string): void => {
    void services().then(({ core: c, runtime }) =>
      runtime.configChanged(key).catch((e: unknown) => c.logger.error('applying a change failed', { key, error: e instanceof Error ? e.message : String(e) })),
    );
  };

  return {
    ...setupHandlers({ core }),
    ...jobHandlers({ core, openExternal, ...(templatesDir ? { templatesDir } : {}) }),
    ...monitorHandlers({ core }),
    ...activityHandlers({ core }),
    ...approvalHandlers({ core, windowUser }),
    'app:info': () => appInfo(),
    'status:get': () => status(),
    'navigation:take': () => navigator.take(),
    'doctor:run': async () => {
      const report = await runDoctor([...(await core()).doctorChecks(), ...(appChecks?.() ?? [])]);
      return report.checks.map(({ id, title, ok, message, fix, warning }) => ({ id, title, ok, message, fix, warning }));
    },
    'cluster:partitions': async () => {
      const partitions = await (await core()).cluster().partitions();
      return partitions.map((p) => p.name);
    },
    'settings:get': async () => settingsView(await core()),
    'settings:set': async (key, value) => {
      const c = await core();
      c.settings.set(key, value);
      changed(key);
      return settingEntry(c, key as SettingKey);
    },
    'settings:unset': async (key) => {
      const c = await core();
      c.settings.unset(key);
      changed(key);
      // unset() refuses unknown keys, so the key is a setting here.
      return settingEntry(c, key as SettingKey);
    },
    'secrets:status': async () => secretsView(await core()),
    'secrets:set': async (name, value) => {
      const c = await core();
      await c.secrets.set(name, value);
      changed(`secret:${name}`);
      return secretsView(c);
    },
    'secrets:delete': async (name) => {
      const c = await core();
      await c.secrets.delete(name);
      changed(`secret:${name}`);
      return secretsView(c);
    },
  };
}

function settingsView(core: Core): SettingsView {
  const values = core.settings.getAll();
  const problems = core.settings.lastProblems();
  return {
    path: core.settings.path,
    entries: SETTING_KEYS.map((key) => entryOf(core, key, values[key])),
    problems,
  };
}

function settingEntry(core: Core, key: SettingKey): SettingEntry {
  if (!isSettingKey(key)) throw new Error(`${String(key)} is not a setting`);
  return entryOf(core, key, core.settings.get(key));
}

function entryOf(core: Core, key: SettingKey, value: unknown): SettingEntry {
  const spec = SETTINGS[key];
  return {
    key,
    // Settings values are JSON by construction (zod schemas of strings, numbers, booleans, lists).
    value: value === undefined ? null : (value as SettingEntry['value']),
    isSet: core.settings.isSet(key),
    description: spec.description,
    expected: spec.expected,
  };
}

async function secretsView(core: Core): Promise<SecretStatusView[]> {
  const status = await core.secrets.status();
  return status.map(({ name, label, source, detail }) => ({ name, label, source, detail: detail ?? null }));
}
