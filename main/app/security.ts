/**
 * Applies the security rules to every WebContents the app ever creates, including ones a bug
 * might create later, not just the main window.
 */
import { app, shell } from 'electron';
import type { WebPreferences } from 'electron';
import { guardNavigation } from './navigation-guard.js';
import { denyAllPermissions } from './permissions.js';

export function applySecurityRules(isOwnUrl: (url: string) => boolean): void {
  const openExternal = (url: string): Promise<void> => shell.openExternal(url);
  app.on('web-contents-created', (_event, contents) => {
    guardNavigation(contents, isOwnUrl, openExternal);
    denyAllPermissions(contents.session);
  });
}

/**
 * The web preferences of every window the app opens (the main window, the prompt window): the
 * preload script is the page's only bridge; no Node, a sandboxed and isolated renderer, no
 * webviews, no insecure content, no navigation by dropping a file.
 */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
  };
}
