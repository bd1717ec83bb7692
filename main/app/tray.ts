/**
 * The tray icon and its menu, drawn from the tray model (tray-state.ts, tray-menu.ts). macOS gets
 * template images (black, tinted by the OS for light and dark menu bars) and a title beside the
 * icon; elsewhere the badge count goes to app.setBadgeCount. @2x variants next to each file are
 * picked up by Electron.
 */
import { join } from 'node:path';
import { Menu, Tray, nativeImage } from 'electron';
import type { MenuItemConstructorOptions, NativeImage } from 'electron';
import { buildTrayMenu } from './tray-menu.js';
import type { TrayAction, TrayMenuItem } from './tray-menu.js';
import { trayView } from './tray-state.js';
import type { TrayIcon, TrayModel } from './tray-state.js';

export interface TrayOptions {
  iconDir: string;
  platform: NodeJS.Platform;
  onAction(action: TrayAction): void;
  /** app.setBadgeCount (Linux launchers); macOS shows the count in the tray title instead. */
  setBadgeCount(count: number): void;
  formatTime(ms: number): string;
}

export interface TrayController {
  render(model: TrayModel, now: number): void;
  destroy(): void;
}

const ICON_FILES: Record<TrayIcon, string> = {
  idle: 'tray',
  running: 'trayRunning',
  failed: 'trayFailed',
  attention: 'trayAttention',
};

export function trayIconPath(iconDir: string, platform: NodeJS.Platform, icon: TrayIcon = 'idle'): string {
  return join(iconDir, `${ICON_FILES[icon]}${platform === 'darwin' ? 'Template' : ''}.png`);
}

/** The Electron menu for the menu model; on Windows and Linux `&` marks a mnemonic, so it is doubled. */
export function trayMenuTemplate(items: TrayMenuItem[], platform: NodeJS.Platform, onAction: (a: TrayAction) => void): MenuItemConstructorOptions[] {
  const text = (label: string): string => (platform === 'darwin' ? label : label.replace(/&/g, '&&'));
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'info':
        return { label: text(item.label), enabled: false };
      case 'action':
        return { label: text(item.label), click: () => onAction(item.action) };
    }
  });
}

export function createTray({ iconDir, platform, onAction, setBadgeCount, formatTime }: TrayOptions): TrayController {
  const images = new Map<TrayIcon, NativeImage>();
  const image = (icon: TrayIcon): NativeImage => {
    let img = images.get(icon);
    if (!img) {
      img = nativeImage.createFromPath(trayIconPath(iconDir, platform, icon));
      images.set(icon, img);
    }
    return img;
  };
  let shown: TrayIcon = 'idle';
  const tray = new Tray(image(shown));
  tray.setToolTip('HPC Relay');
  // Windows and most Linux trays open the window on a plain click; macOS shows the menu.
  if (platform !== 'darwin') tray.on('click', () => onAction({ type: 'open' }));

  return {
    render(model, now) {
      if (tray.isDestroyed()) return;
      const view = trayView(model, now);
      if (view.icon !== shown) {
        shown = view.icon;
        tray.setImage(image(shown));
      }
      tray.setToolTip(view.tooltip);
      if (platform === 'darwin') tray.setTitle(view.title);
      else setBadgeCount(view.badge);
      // Linux trays (AppIndicator) only pick up a changed menu when it is set again.
      tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(buildTrayMenu(model, now, formatTime), platform, onAction)));
    },
    destroy() {
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}
