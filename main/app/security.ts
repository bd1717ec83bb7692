/**
 * Applies the security rules to every WebContents the app ever creates, including ones a bug
 * might create later, not just the main window.
 */
import { app, shell } from 'electron';
import { guardNavigation } from './navigation-guard.js';
import { denyAllPermissions } from './permissions.js';

export function applySecurityRules(isOwnUrl: (url: string) => boolean): void {
  const openExternal = (url: string): Promise<void> => shell.openExternal(url);
  app.on('web-contents-created', (_event, contents) => {
    guardNavigation(contents, isOwnUrl, openExternal);
    denyAllPermissions(contents.session);
  });
}
