/**
 * Composition root of the Electron app: the only place that creates real implementations and
 * hands them to the pieces that use them. Everything here is wiring; the behaviour lives in
 * main/app (tray, window, security, power, quit), main/adapters (the core's ports over
 * Electron), main/ipc (typed, checked IPC) and main/core (everything that does real work).
 */
import { join } from 'node:path';
import { app, Notification, powerMonitor, shell as electronShell } from 'electron';
import type { BrowserWindow } from 'electron';
import { createCore } from './core/index.js';
import type { Core } from './core/index.js';
import { PRODUCT_NAME, settingsHome } from './core/config/home.js';
import { createLogger } from './core/log/logger.js';
import { systemClock } from './core/ports.js';
import { Runtime } from './core/runtime/runtime.js';
import { RELAY_SERVICES } from './core/runtime/services.js';
import { openKeychain } from './core/secrets/keytar-store.js';
import { SecretRegistry } from './core/secrets/redact.js';
import { ElectronNotifier } from './adapters/electron-notifier.js';
import { ElectronPrompt } from './adapters/electron-prompt.js';
import { ElectronStoreConfigStore } from './adapters/electron-store-config-store.js';
import { installGracefulQuit } from './app/graceful-quit.js';
import { applyLoginItem, startedHidden } from './app/login-item.js';
import { createMainWindow, createWindowPresenter } from './app/main-window.js';
import { createNavigator } from './app/navigator.js';
import { notificationsCheck } from './app/notify-check.js';
import { wirePower } from './app/power.js';
import { trackQuitting } from './app/quit-state.js';
import { rendererLocation } from './app/renderer-location.js';
import { sqliteNativeBinding, trayIconDir } from './app/resource-paths.js';
import { applySecurityRules } from './app/security.js';
import { createShellState } from './app/shell-state.js';
import { acquireSingleInstance } from './app/single-instance.js';
import { createTray } from './app/tray.js';
import type { TrayController } from './app/tray.js';
import { createTrayActions } from './app/tray-actions.js';
import { watchChanges } from './ipc/changes.js';
import { push } from './ipc/push.js';
import { registerHandlers } from './ipc/register-handlers.js';
import { createSenderTrust } from './ipc/trusted-sender.js';
import { windowHandlers } from './ipc/window-handlers.js';

/** How long Quit waits for the services to finish (flush the outbox, close SSH and Slack). */
const QUIT_TIMEOUT_MS = 5_000;

// One settings home for the app and the CLI: HPC_RELAY_HOME, else the platform's user-data
// directory for "HPC Relay" (settingsHome computes what Electron would, without package.json's
// name deciding it). Set before anything reads userData (electron-store, logs, Chromium's data).
app.setName(PRODUCT_NAME);
const home = settingsHome(process.env);
app.setPath('userData', home);

// electron-vite's output, in the checkout or inside app.asar (package.json's main is out/main/index.js).
const outDir = join(app.getAppPath(), 'out');
const preloadPath = join(outDir, 'preload', 'index.cjs');
const location = rendererLocation({
  devServerUrl: app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'],
  indexHtmlPath: join(outDir, 'renderer', 'index.html'),
});
const trust = createSenderTrust(location.isOwnUrl);

app.enableSandbox();
app.setAppUserModelId('dev.hpcrelay.app');

const isQuitting = trackQuitting(app);
const focusApp = (): void => {
  if (process.platform === 'darwin') app.focus({ steal: true });
};

// Held for the life of the app: a Tray that is garbage-collected vanishes from the tray.
let tray: TrayController | null = null;
const windows = createWindowPresenter(
  () =>
    createMainWindow({
      url: location.url,
      preloadPath,
      onCreated: (window) => {
        trust.trust(window.webContents);
        // A page that loads again listens for `navigate` only once it asks (navigation:take).
        navigator.pageGone();
        window.webContents.on('did-start-loading', () => navigator.pageGone());
        window.webContents.once('destroyed', () => navigator.pageGone());
        // Looking at the window counts as seeing the jobs that ended: the badge clears.
        window.on('focus', () => shell.dispatch({ type: 'all-seen' }));
      },
      isQuitting,
    }),
  focusApp,
);
const navigator = createNavigator({
  showWindow: () => windows.show(),
  send: (target) => push(trust.trusted(), 'navigate', target),
});
const visibleWindow = (): BrowserWindow | null => {
  const window = windows.current();
  return window?.isVisible() ? window : null;
};

// The tray model and the window's status, fed by the core once it is built.
const shell = createShellState(
  { ssh: { state: 'off' }, slack: { state: 'off' }, model: { state: 'off' }, jobs: null },
  systemClock,
  (model) => {
    tray?.render(model, systemClock.now());
    push(trust.trusted(), 'status:changed', shell.status());
  },
);

if (!acquireSingleInstance(app, () => windows.show())) {
  app.quit();
} else {
  start();
}

function start(): void {
  applySecurityRules(location.isOwnUrl);

  const registry = new SecretRegistry();
  const logger = createLogger({ file: join(home, 'logs', 'hpc-relay.log'), registry });
  const prompt = new ElectronPrompt({ preloadPath, parent: visibleWindow, focusApp });
  const notifier = new ElectronNotifier({
    trayEnabled: () => current?.core.settings.settings().notify.tray ?? true,
    paused: () => shell.notificationsPaused(),
    onJobEnded: (jobId, outcome) => shell.dispatch({ type: 'job-ended', jobId, outcome }),
    onClick: (target) => {
      if (target.view === 'job') shell.dispatch({ type: 'job-seen', jobId: target.jobId });
      navigator.go(target);
    },
  });

  // The keychain is asked first (a locked one may show its own unlock prompt); the tray and the
  // window do not wait for it, IPC calls do.
  let current: { core: Core; runtime: Runtime } | null = null;
  const services = openKeychain().then(({ store, error }) => {
    const core = createCore({
      home,
      configStore: new ElectronStoreConfigStore(home),
      keychain: store,
      keychainError: error,
      env: process.env,
      registry,
      logger,
      prompt,
      notifier,
      sqliteNativeBinding: sqliteNativeBinding(app),
    });
    current = { core, runtime: new Runtime(core, [...RELAY_SERVICES]) };
    core.status.subscribe((status) => shell.dispatch({ type: 'status', status }));
    shell.dispatch({ type: 'status', status: core.status.snapshot() });
    // Job transitions and approvals reach the window as they happen; its screens poll only as a fallback.
    try {
      watchChanges(core, (change) => push(trust.trusted(), 'data:changed', change));
    } catch (e) {
      logger.error('the window will not hear of job and approval changes (it still polls)', { error: e instanceof Error ? e.message : String(e) });
    }
    return current;
  });

  registerHandlers({
    handlers: {
      ...windowHandlers({
        services: () => services,
        appInfo: () => ({ version: app.getVersion(), platform: process.platform }),
        status: () => shell.status(),
        navigator,
        // jobs:openSlackThread passes only https slack.com links (checked in handlers-jobs.ts).
        openExternal: (url) => electronShell.openExternal(url),
        appChecks: () => [notificationsCheck(() => ({
          supported: Notification.isSupported(),
          trayEnabled: current?.core.settings.settings().notify.tray ?? true,
          lastFailure: notifier.lastFailure(),
          platform: process.platform,
        }))],
      }),
      ...prompt.handlers,
    },
    senders: { window: trust.isTrusted, prompt: prompt.isTrusted },
  });

  installGracefulQuit(app, {
    shutdown: async () => {
      const { core, runtime } = await services;
      await runtime.stop();
      await core.close();
    },
    timeoutMs: QUIT_TIMEOUT_MS,
    onTimeout: () => logger.warn('quit: services did not stop in time', { timeoutMs: QUIT_TIMEOUT_MS }),
  });

  // The app lives in the tray: closing every window must not end it.
  app.on('window-all-closed', () => undefined);
  app.on('activate', () => windows.show());
  app.on('will-quit', () => {
    // Windows leaves a ghost icon behind until hovered unless the tray is removed explicitly.
    tray?.destroy();
    logger.flush();
  });

  app
    .whenReady()
    .then(async () => {
      if (process.platform === 'darwin') app.dock?.hide();
      // app.openAtLogin is read at each start; a change takes effect from the next one.
      void services.then(({ core }) => applyLoginItem(app, process.platform, core.settings.settings().app.openAtLogin));
      tray = createTray({
        iconDir: trayIconDir(app, process.resourcesPath),
        platform: process.platform,
        onAction: createTrayActions({
          showWindow: () => windows.show(),
          navigate: (target) => navigator.go(target),
          dispatch: (event) => shell.dispatch(event),
          pauseNotifications: () => shell.pauseNotifications(),
          runtime: async () => (await services).runtime,
          quit: () => app.quit(),
          onError: (what, e) => logger.error(`tray: ${what} failed`, { error: e instanceof Error ? e.message : String(e) }),
        }),
        setBadgeCount: (count) => app.setBadgeCount(count),
        formatTime: (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      });
      tray.render(shell.model(), systemClock.now());
      wirePower(powerMonitor, async () => (await services).runtime.resume(), logger);
      if (!startedHidden(app, process.argv, process.platform)) windows.show();

      const { runtime } = await services;
      logger.info('app started', { services: await runtime.start() });
    })
    .catch((e: unknown) => {
      console.error('HPC Relay could not start', e);
      logger.error('app could not start', { error: e instanceof Error ? e.message : String(e) });
      app.exit(1);
    });
}
