/**
 * The app's settings store: electron-store, on the same file the CLI's FileConfigStore uses
 * (`<home>/config.json`, conf's JSON format, atomic writes), so the app and `hpc-relay config`
 * see each other's changes. Behaviour (lazy open, CONFIG_CORRUPT on read, move aside on request)
 * is FileConfigStore's own; only the backend differs.
 */
import ElectronStore from 'electron-store';
import { FileConfigStore } from '../core/config/file-config-store.js';

export class ElectronStoreConfigStore extends FileConfigStore {
  constructor(home: string) {
    super(home, ({ cwd, configName }) => new ElectronStore<Record<string, unknown>>({ cwd, name: configName, clearInvalidConfig: false }));
  }
}
