/**
 * A page may only ever show our own renderer: navigation elsewhere is cancelled, new windows
 * are never created (allowed links go to the system browser instead) and <webview> is refused.
 */
import type { WebContents } from 'electron';
import { openExternalIfAllowed } from './external-links.js';

export function guardNavigation(
  contents: WebContents,
  isOwnUrl: (url: string) => boolean,
  openExternal: (url: string) => Promise<void>,
): void {
  const denyForeign = (event: { preventDefault(): void }, url: string): void => {
    if (isOwnUrl(url)) return;
    event.preventDefault();
    openExternalIfAllowed(url, openExternal);
  };
  contents.on('will-navigate', (event) => denyForeign(event, event.url));
  contents.on('will-redirect', (event) => denyForeign(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfAllowed(url, openExternal);
    return { action: 'deny' };
  });
}
