/** The shell's security rules: what counts as our own page, which links leave the app, navigation. */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebContents } from 'electron';
import { rendererLocation } from '../../main/app/renderer-location.js';
import { isAllowedExternalUrl, openExternalIfAllowed } from '../../main/app/external-links.js';
import { guardNavigation } from '../../main/app/navigation-guard.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rendererLocation', () => {
  it('accepts only the built index.html as our own page', () => {
    const location = rendererLocation({ indexHtmlPath: '/opt/HPC Relay/out/renderer/index.html' });
    expect(location.url).toBe('file:///opt/HPC%20Relay/out/renderer/index.html');
    expect(location.isOwnUrl(location.url)).toBe(true);
    expect(location.isOwnUrl(`${location.url}#/jobs`)).toBe(true);
    expect(location.isOwnUrl('file:///opt/HPC%20Relay/out/renderer/other.html')).toBe(false);
    expect(location.isOwnUrl('file:///etc/passwd')).toBe(false);
    expect(location.isOwnUrl('file://evil.example/opt/HPC%20Relay/out/renderer/index.html')).toBe(false);
    expect(location.isOwnUrl('https://slack.com/')).toBe(false);
    expect(location.isOwnUrl('not a url')).toBe(false);
  });

  it('accepts the dev server by origin when one is given', () => {
    const location = rendererLocation({ devServerUrl: 'http://localhost:5173', indexHtmlPath: '/x/index.html' });
    expect(location.url).toBe('http://localhost:5173');
    expect(location.isOwnUrl('http://localhost:5173/src/main.tsx')).toBe(true);
    expect(location.isOwnUrl('http://localhost:5174/')).toBe(false);
    expect(location.isOwnUrl('file:///x/index.html')).toBe(false);
  });
});

describe('external links', () => {
  it.each(['https://slack.com/apps', 'https://api.slack.com/apps?new_app=1', 'https://github.com/hpc-relay/hpc-relay/issues'])(
    'allows %s',
    (url) => expect(isAllowedExternalUrl(url)).toBe(true),
  );

  it.each([
    'http://slack.com/',
    'https://slack.com.evil.example/',
    'https://evil.example/?https://slack.com',
    'https://user:pw@github.com/',
    'https://gist.github.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'not a url',
  ])('refuses %s', (url) => expect(isAllowedExternalUrl(url)).toBe(false));

  it('opens only allowed links', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const opened: string[] = [];
    const open = (url: string): Promise<void> => {
      opened.push(url);
      return Promise.resolve();
    };
    expect(openExternalIfAllowed('https://github.com/', open)).toBe(true);
    expect(openExternalIfAllowed('https://evil.example/', open)).toBe(false);
    expect(opened).toEqual(['https://github.com/']);
  });
});

describe('guardNavigation', () => {
  class FakeContents extends EventEmitter {
    openHandler: ((details: { url: string }) => { action: string }) | null = null;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
      this.openHandler = handler;
    }
  }
  const own = 'file:///app/out/renderer/index.html';

  function guarded(): { contents: FakeContents; opened: string[] } {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const contents = new FakeContents();
    const opened: string[] = [];
    guardNavigation(contents as unknown as WebContents, (url) => url.startsWith(own), (url) => {
      opened.push(url);
      return Promise.resolve();
    });
    return { contents, opened };
  }

  function navigate(contents: FakeContents, kind: string, url: string): boolean {
    let prevented = false;
    contents.emit(kind, { url, preventDefault: () => (prevented = true) });
    return prevented;
  }

  it('lets our own page navigate within itself and cancels everything else', () => {
    const { contents, opened } = guarded();
    expect(navigate(contents, 'will-navigate', `${own}#/doctor`)).toBe(false);
    expect(navigate(contents, 'will-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate(contents, 'will-redirect', 'https://evil.example/')).toBe(true);
    // An allowed link that tried to navigate the window opens in the browser instead.
    expect(navigate(contents, 'will-navigate', 'https://api.slack.com/apps')).toBe(true);
    expect(opened).toEqual(['https://api.slack.com/apps']);
  });

  it('never opens a window, and hands allowed links to the browser', () => {
    const { contents, opened } = guarded();
    expect(contents.openHandler?.({ url: 'https://github.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/']);
  });

  it('refuses <webview>', () => {
    const { contents } = guarded();
    expect(navigate(contents, 'will-attach-webview', 'https://evil.example/')).toBe(true);
  });
});
