import { createRequire } from 'node:module';
import type { SecretStore } from '../ports.js';
import { KEYCHAIN_SERVICE } from './secret-names.js';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/** The OS keychain through keytar (N-API, so it loads in Node and in Electron alike). */
export class KeytarSecretStore implements SecretStore {
  constructor(private readonly keytar: Keytar, private readonly service = KEYCHAIN_SERVICE) {}

  get(account: string): Promise<string | null> {
    return this.keytar.getPassword(this.service, account);
  }
  set(account: string, value: string): Promise<void> {
    return this.keytar.setPassword(this.service, account, value);
  }
  delete(account: string): Promise<boolean> {
    return this.keytar.deletePassword(this.service, account);
  }
}

/**
 * Loads keytar and proves the Secret Service answers. Returns the store, or the reason it cannot be
 * used (no libsecret, no D-Bus session, locked keychain), for `secrets status` and the doctor.
 */
export async function openKeychain(service = KEYCHAIN_SERVICE): Promise<{ store: KeytarSecretStore | null; error: string | null }> {
  let keytar: Keytar;
  try {
    const require = createRequire(import.meta.url);
    keytar = require('keytar') as Keytar;
  } catch (e) {
    return { store: null, error: `keytar could not be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    await keytar.getPassword(service, '__probe__');
    return { store: new KeytarSecretStore(keytar, service), error: null };
  } catch (e) {
    return { store: null, error: (e as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}
