/**
 * The doctor's check for desktop notifications, as the app sees them (the daemon has none): the
 * desktop supports them, notify.tray is on, and the last one shown did not fail. Electron cannot
 * ask macOS whether the user allowed them, so a pass there says where to look if none appear.
 */
import type { DoctorCheck } from '../core/doctor/doctor.js';

export interface NotifyHealth {
  /** Electron's Notification.isSupported(). */
  supported: boolean;
  /** notify.tray. */
  trayEnabled: boolean;
  /** Why the last notification failed to show (Windows reports it), null when it did not. */
  lastFailure: string | null;
  platform: NodeJS.Platform;
}

function allowHint(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'In System Settings → Notifications → HPC Relay, turn on Allow notifications.';
  if (platform === 'win32') return 'In Settings → System → Notifications, turn notifications on for HPC Relay, and check that Do not disturb is off.';
  return 'Check that a notification service runs in your desktop session (GNOME and KDE have one; otherwise e.g. dunst or mako), and that Do not disturb is off.';
}

export function notificationsCheck(health: () => NotifyHealth): DoctorCheck {
  return {
    id: 'notify.desktop',
    title: 'Desktop notifications',
    async run() {
      const h = health();
      if (!h.supported) return { ok: false, message: 'This desktop session cannot show notifications, so job ends reach you only in Slack and in the tray menu.', fix: allowHint(h.platform) };
      if (h.lastFailure) return { ok: false, message: `The last notification could not be shown: ${h.lastFailure}.`, fix: allowHint(h.platform) };
      if (!h.trayEnabled) return { ok: true, warning: true, message: 'notify.tray is off: job ends are not shown on the desktop (the tray menu still counts them).', fix: 'Turn it on in Settings, or `hpc-relay config set notify.tray true`.' };
      return { ok: true, message: `Notifications are on.${h.platform === 'darwin' ? ' If none appear, allow them for HPC Relay in System Settings → Notifications.' : ''}` };
    },
  };
}
