/**
 * The prompt window's page (main/adapters/prompt-page.ts) in a real browser (Debian's Chromium),
 * with its own CSP in force: the inline script and style are allowed by their hashes and run,
 * the server's prompt is shown as text, and the typed answer goes back through `window.hpc`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import type { Browser, Page } from 'playwright-core';
import { PROMPT_PAGE_URL } from '../../main/adapters/prompt-page.js';

const hostile = 'Passcode <img src=x onerror=window.__pwned=1>:';

let browser: Browser;
let page: Page;
let answers: (string | null)[];
let problems: string[];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  answers = [];
  problems = [];
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.exposeFunction('__testAnswer', (value: string | null) => {
    answers.push(value);
    return { ok: true, value: null };
  });
  await page.addInitScript((message) => {
    const w = window as unknown as Record<string, unknown>;
    const answer = w['__testAnswer'] as (v: string | null) => Promise<unknown>;
    w['hpc'] = Object.freeze({
      promptQuestion: () => Promise.resolve({ ok: true, value: { kind: 'secret', title: 'Login to hpc', message } }),
      promptAnswer: (v: string | null) => answer(v),
    });
  }, hostile);
});

describe('prompt page', () => {
  it('runs under its own CSP, shows the question as text and sends the typed code on Enter', async () => {
    await page.goto(PROMPT_PAGE_URL);
    const input = page.locator('#answer');
    await expect.poll(() => input.isEnabled()).toBe(true);
    expect(await page.title()).toBe('Login to hpc');
    expect(await page.locator('#message').textContent()).toBe(hostile);
    expect(await page.locator('img').count()).toBe(0);
    expect(await input.getAttribute('type')).toBe('password');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('answer');

    await input.fill('123456');
    await page.keyboard.press('Enter');
    await expect.poll(() => answers).toEqual(['123456']);
    // One answer only, however often Enter is pressed.
    await page.keyboard.press('Enter');
    await page.locator('#ok').click({ force: true });
    expect(answers).toEqual(['123456']);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('answers null on Cancel and on Escape', async () => {
    await page.goto(PROMPT_PAGE_URL);
    await expect.poll(() => page.locator('#answer').isEnabled()).toBe(true);
    await page.locator('#cancel').click();
    await expect.poll(() => answers).toEqual([null]);

    await page.goto(PROMPT_PAGE_URL);
    await expect.poll(() => page.locator('#answer').isEnabled()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => answers).toEqual([null, null]);
    expect(problems).toEqual([]);
  });
});
