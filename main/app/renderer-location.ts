/**
 * Where the renderer lives, and the one test of "is this URL our own page" that navigation
 * rules and the IPC sender check share. In development it is the electron-vite dev server;
 * otherwise the built index.html, matched by exact file path (query and hash ignored).
 */
import { pathToFileURL } from 'node:url';

export interface RendererLocation {
  url: string;
  isOwnUrl(url: string): boolean;
}

export interface RendererLocationOptions {
  /** The dev server URL; pass it only for unpackaged runs, so an env var can never re-point a shipped app. */
  devServerUrl?: string | undefined;
  indexHtmlPath: string;
}

export function rendererLocation({ devServerUrl, indexHtmlPath }: RendererLocationOptions): RendererLocation {
  if (devServerUrl) {
    const origin = new URL(devServerUrl).origin;
    return { url: devServerUrl, isOwnUrl: (url) => parse(url)?.origin === origin };
  }
  const own = pathToFileURL(indexHtmlPath);
  return {
    url: own.href,
    isOwnUrl(url) {
      const parsed = parse(url);
      return parsed?.protocol === 'file:' && parsed.host === own.host && parsed.pathname === own.pathname;
    },
  };
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
