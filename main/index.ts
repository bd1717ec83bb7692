/**
 * Composition root of the Electron app: the only place that creates real implementations and
 * hands them to the pieces that use them. Everything here is wiring; the behaviour lives in
 * main/app (tray, window, security), main/ipc (typed, checked IPC) and main/core.
 */
import { join } from 'node:path';
import { app } from 'electron';
import type { Tray } from 'electron';
import { RelayError } from './core/errors.js';
import { checkKeychain } from './adapters/keychain-check.js';
import type { KeychainClient } from './adapters/keychain-check.js';
import { createMainWindow, createWindowPresenter } from './app/main-window.js';
import { trackQuitting } from './app/quit-state.js';
import { rendererLocation } from './app/renderer-location.js';
import { trayIconDir } from './app/resource-paths.js';
import { applySecurityRules } from './app/security.js';
import { acquireSingleInstance } from './app/single-instance.js';
import { createTray } from './app/tray.js';
import { registerHandlers } from './ipc/register-handlers.js';
import { createSenderTrust } from './ipc/trusted-sender.js';

// electron-vite's output, in the checkout or inside app.asar (package.json's main is out/main/index.js).
const outDir = join(app.getAppPath(), 'out');
const keychainService = 'hpc-relay';

const location = rendererLocation({
  devServerUrl: app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'],
  indexHtmlPath: join(outDir, 'renderer', 'index.html'),
});
const trust = createSenderTrust(location.isOwnUrl);

app.enableSandbox();
app.setAppUserModelId('dev.hpcrelay.app');

const isQuitting = trackQuitting(app);
// Held for the life of the app: a Tray that is garbage-collected vanishes from the tray.
let tray: Tray | null = null;
const windows = createWindowPresenter(() =>
  createMainWindow({
    url: location.url,
    preloadPath: join(outDir, 'preload', 'index.cjs'),
    onCreated: (window) => trust.trust(window.webContents),
    isQuitting,
  }),
);

if (!acquireSingleInstance(app, () => windows.show())) {
  app.quit();
} else {
  applySecurityRules(location.isOwnUrl);
  registerHandlers({
    isTrustedSender: trust.isTrusted,
    handlers: {
      'app:info': () => ({ version: app.getVersion(), platform: process.platform }),
      'doctor:run': async () => [
        await checkKeychain({ load: loadKeytar, service: keychainService, platform: process.platform }),
      ],
      'cluster:partitions': () => {
        throw new RelayError('SSH_NOT_CONFIGURED', 'HPC Relay is not connected to a cluster yet.', {
          fix: 'Set up the SSH connection first, then try again.',
        });
      },
    },
  });

  // The app lives in the tray: closing every window must not end it.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => windows.show());
  // Windows leaves a ghost icon behind until hovered unless the tray is removed explicitly.
  app.on('will-quit', () => tray?.destroy());

  app
    .whenReady()
    .then(() => {
      tray = createTray({
        iconDir: trayIconDir(app, process.resourcesPath),
        platform: process.platform,
        onOpen: () => windows.show(),
        onQuit: () => app.quit(),
      });
      windows.show();
    })
    .catch((e: unknown) => {
      console.error('HPC Relay could not start', e);
      app.exit(1);
    });
}

async function loadKeytar(): Promise<KeychainClient> {
  const keytar = await import('keytar');
  return keytar.default;
}
