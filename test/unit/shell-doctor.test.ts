/** The keychain doctor check, with keychain clients that answer, fail, or hang. */
import { describe, expect, it } from 'vitest';
import { checkKeychain } from '../../main/adapters/keychain-check.js';
import type { KeychainClient } from '../../main/adapters/keychain-check.js';

// On Linux keytar needs a D-Bus session with a Secret Service (`npm run test:integration` starts one).
const noKeyring = process.platform === 'linux' && !process.env['DBUS_SESSION_BUS_ADDRESS'];

describe('checkKeychain', () => {
  it('passes when the keychain answers, asking only for an account that never exists', async () => {
    const asked: string[][] = [];
    const client: KeychainClient = {
      getPassword: (service, account) => {
        asked.push([service, account]);
        return Promise.resolve(null);
      },
    };
    const check = await checkKeychain({ load: () => Promise.resolve(client), service: 'hpc-relay', platform: 'linux' });
    expect(check).toEqual({ id: 'keychain', ok: true, message: 'The Secret Service keyring is reachable.', fix: null });
    expect(asked).toEqual([['hpc-relay', 'doctor-probe (never stored)']]);
  });

  it('fails with the keychain error and a platform fix', async () => {
    const client: KeychainClient = {
      getPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
    };
    const check = await checkKeychain({ load: () => Promise.resolve(client), service: 'hpc-relay', platform: 'linux' });
    expect(check.ok).toBe(false);
    expect(check.message).toBe('The Secret Service keyring is not reachable (it answered: Cannot autolaunch D-Bus without X11 $DISPLAY).');
    expect(check.fix).toMatch(/GNOME Keyring or KWallet/);
  });

  it('fails when keytar itself cannot load', async () => {
    const check = await checkKeychain({
      load: () => Promise.reject(new Error('libsecret-1.so.0: cannot open shared object file')),
      service: 'hpc-relay',
      platform: 'darwin',
    });
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/^The macOS Keychain is not reachable \(it answered: libsecret/);
    expect(check.fix).toMatch(/Keychain Access/);
  });

  it('gives up on a keychain that never answers', async () => {
    const hanging: KeychainClient = { getPassword: () => new Promise(() => undefined) };
    const check = await checkKeychain({ load: () => Promise.resolve(hanging), service: 'hpc-relay', platform: 'win32', timeoutMs: 20 });
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/Windows Credential Manager is not reachable \(no answer within 0 s; an unlock prompt may be waiting\)/);
  });

  it.skipIf(noKeyring)('reaches the real keychain', async () => {
    const keytar = (await import('keytar')).default;
    const check = await checkKeychain({ load: () => Promise.resolve(keytar), service: 'hpc-relay-test', platform: process.platform });
    expect(check).toMatchObject({ ok: true });
  });
});
