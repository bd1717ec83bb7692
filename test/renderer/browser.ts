/**
 * Debian's Chromium for the renderer tests (Playwright's own browsers cannot be downloaded here),
 * and a page whose errors are collected: a test asserts the list is empty at its end.
 */
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page in its own context; page errors and console errors are pushed to `problems`. */
export async function watchedPage(browser: Browser, options: BrowserContextOptions, problems: string[]): Promise<Page> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  return page;
}
