/** The pure parts of scripts/electron-native.mjs: where the Electron build lives and when it is stale. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sqliteNativeBinding } from '../../main/app/resource-paths.js';

interface Status {
  wanted: Record<string, string>;
  stale: boolean;
  reason: string | null;
}
interface NativeScript {
  electronHeadersUrl: string;
  electronNativePaths(rootDir: string): { dir: string; bindingPath: string; stampPath: string; logPath: string };
  electronNativeStatus(input: {
    electronVersion: string;
    betterSqlite3Version: string;
    platform: string;
    arch: string;
    stamp: unknown;
    bindingExists: boolean;
  }): Status;
  describeBuildFailure(input: { electronVersion: string; log: string; logPath: string }): string;
}

// A plain .mjs (it runs before any build): imported by URL, typed by the interface above.
const scriptUrl = pathToFileURL(join(import.meta.dirname, '..', '..', 'scripts', 'electron-native.mjs')).href;
const script = (await import(scriptUrl)) as NativeScript;

const installed = { electronVersion: '39.8.10', betterSqlite3Version: '12.11.1', platform: 'linux', arch: 'x64' };
const matchingStamp = { electron: '39.8.10', betterSqlite3: '12.11.1', platform: 'linux', arch: 'x64' };

describe('electronNativePaths', () => {
  it('puts the binding where main/app/resource-paths.ts looks for it', () => {
    const paths = script.electronNativePaths('/repo');
    expect(paths.bindingPath).toBe(join('/repo', 'build', 'electron-native', 'better_sqlite3.node'));
    expect(paths.stampPath).toBe(join('/repo', 'build', 'electron-native', 'stamp.json'));
    expect(sqliteNativeBinding({ isPackaged: false, getAppPath: () => '/repo' })).toBe(paths.bindingPath);
  });

  it('leaves a packaged app to electron-builder\'s rebuild', () => {
    expect(sqliteNativeBinding({ isPackaged: true, getAppPath: () => '/Applications/HPC Relay.app/Contents/Resources/app.asar' })).toBeUndefined();
  });
});

describe('electronNativeStatus', () => {
  it('is fresh when the binding exists and the stamp matches everything installed', () => {
    const status = script.electronNativeStatus({ ...installed, stamp: matchingStamp, bindingExists: true });
    expect(status).toEqual({ wanted: matchingStamp, stale: false, reason: null });
  });

  it('is stale without a binding, whatever the stamp says', () => {
    const status = script.electronNativeStatus({ ...installed, stamp: matchingStamp, bindingExists: false });
    expect(status.stale).toBe(true);
    expect(status.reason).toMatch(/no Electron build/);
  });

  it('is stale when the stamp is missing or unreadable', () => {
    for (const stamp of [null, 'garbage', 42]) {
      const status = script.electronNativeStatus({ ...installed, stamp, bindingExists: true });
      expect(status.stale).toBe(true);
      expect(status.reason).toMatch(/stamp/);
    }
  });

  it.each([
    ['electron', { electron: '38.2.0' }, /electron 38\.2\.0, now 39\.8\.10/],
    ['better-sqlite3', { betterSqlite3: '11.0.0' }, /betterSqlite3 11\.0\.0, now 12\.11\.1/],
    ['arch', { arch: 'arm64' }, /arch arm64, now x64/],
  ])('is stale after a %s change', (_name, change, reason) => {
    const status = script.electronNativeStatus({ ...installed, stamp: { ...matchingStamp, ...change }, bindingExists: true });
    expect(status.stale).toBe(true);
    expect(status.reason).toMatch(reason);
  });
});

describe('describeBuildFailure', () => {
  it('says in one sentence that the headers could not be downloaded when offline', () => {
    const log = 'gyp WARN install got an error, rolling back install\ngyp ERR! stack is related to network connectivity.';
    const sentence = script.describeBuildFailure({ electronVersion: '39.8.10', log, logPath: 'build/electron-native/node-gyp.log' });
    expect(sentence).toMatch(/^Could not build better-sqlite3 for Electron 39\.8\.10: the Electron headers could not be downloaded/);
    expect(sentence).toContain(script.electronHeadersUrl);
    expect(sentence.split('\n')).toHaveLength(1);
  });

  it('blames the toolchain when the download worked', () => {
    const sentence = script.describeBuildFailure({ electronVersion: '39.8.10', log: 'make: *** [sqlite3.o] Error 1', logPath: 'x.log' });
    expect(sentence).toMatch(/C\+\+ toolchain/);
  });
});
