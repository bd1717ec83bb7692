/**
 * The tray icon and its menu. macOS gets a template image (drawn in black, tinted by the OS
 * for light and dark menu bars); @2x variants next to each file are picked up by Electron.
 */
import { join } from 'node:path';
import { Menu, Tray, nativeImage } from 'electron';

export interface TrayOptions {
  iconDir: string;
  platform: NodeJS.Platform;
  onOpen(): void;
  onQuit(): void;
}

export function trayIconPath(iconDir: string, platform: NodeJS.Platform): string {
  return join(iconDir, platform === 'darwin' ? 'trayTemplate.png' : 'tray.png');
}

export function createTray({ iconDir, platform, onOpen, onQuit }: TrayOptions): Tray {
  const tray = new Tray(nativeImage.createFromPath(trayIconPath(iconDir, platform)));
  tray.setToolTip('HPC Relay');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open HPC Relay', click: onOpen },
      { type: 'separator' },
      { label: 'Quit HPC Relay', click: onQuit },
    ]),
  );
  // Windows and most Linux trays open the window on a plain click; macOS shows the menu.
  if (platform !== 'darwin') tray.on('click', onOpen);
  return tray;
}
