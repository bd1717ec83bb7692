/**
 * Doctor check: can we reach the OS keychain at all? It asks for a password that never
 * exists, which touches the keychain without reading any real secret. keytar is loaded inside
 * the check, so a keytar that cannot load (missing libsecret, wrong ABI) is a failed check
 * rather than an app that does not start.
 */
import type { DoctorCheck } from '../../preload/contract.js';

export interface KeychainClient {
  getPassword(service: string, account: string): Promise<string | null>;
}

export interface KeychainCheckOptions {
  load(): Promise<KeychainClient>;
  service: string;
  platform: NodeJS.Platform;
  /** A locked keyring may show an unlock prompt and wait; give up after this long. */
  timeoutMs?: number;
}

const probeAccount = 'doctor-probe (never stored)';

export async function checkKeychain({ load, service, platform, timeoutMs = 15_000 }: KeychainCheckOptions): Promise<DoctorCheck> {
  const id = 'keychain';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new KeychainTimeout(timeoutMs)), timeoutMs);
  });
  try {
    const keychain = await Promise.race([load(), timeout]);
    await Promise.race([keychain.getPassword(service, probeAccount), timeout]);
    return { id, ok: true, message: `The ${keychainName(platform)} is reachable.`, fix: null };
  } catch (e) {
    const why = e instanceof KeychainTimeout ? e.message : `it answered: ${e instanceof Error ? e.message : String(e)}`;
    return { id, ok: false, message: `The ${keychainName(platform)} is not reachable (${why}).`, fix: keychainFix(platform) };
  } finally {
    clearTimeout(timer);
  }
}

class KeychainTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s; an unlock prompt may be waiting`);
  }
}

function keychainName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service keyring';
}

function keychainFix(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Open Keychain Access, unlock the login keychain, then run the checks again.';
  if (platform === 'win32') return 'Sign in to Windows with your own account (Credential Manager is per user), then run the checks again.';
  return 'Install and unlock a Secret Service keyring (GNOME Keyring or KWallet, with libsecret) in a desktop session with D-Bus, then run the checks again.';
}
