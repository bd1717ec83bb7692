/** The SSH layer's questions in the app (mocked electron): a small window for codes, a dialog for host keys. */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { IpcMainInvokeEvent } from 'electron';
import type { FakeBrowserWindow, FakeElectron } from '../helpers/fake-electron.js';

const fake = vi.hoisted(() => ({ electron: null as unknown as FakeElectron }));
vi.mock('electron', async () => {
  const { createFakeElectron } = await import('../helpers/fake-electron.js');
  fake.electron = createFakeElectron();
  return fake.electron;
});

const { ElectronPrompt } = await import('../../main/adapters/electron-prompt.js');
const { PROMPT_PAGE_URL } = await import('../../main/adapters/prompt-page.js');
const { FakeBrowserWindow: Window } = await import('../helpers/fake-electron.js');

const hostKeyMessage = 'The authenticity of hpc:22 can\'t be established.\nssh-ed25519 key fingerprint is SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8.\nTrust it and add it to ~/.ssh/known_hosts?';

function setup(opts: { parent?: FakeBrowserWindow | null; timeoutMs?: number } = {}) {
  let focused = 0;
  const prompt = new ElectronPrompt({
    preloadPath: '/repo/out/preload/index.cjs',
    parent: () => (opts.parent ?? null) as never,
    focusApp: () => focused++,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return { prompt, focused: () => focused };
}

function eventFrom(window: FakeBrowserWindow, url = PROMPT_PAGE_URL): IpcMainInvokeEvent {
  return { sender: window.webContents, senderFrame: { url, parent: null } } as unknown as IpcMainInvokeEvent;
}

async function nextWindow(count: number): Promise<FakeBrowserWindow> {
  for (let i = 0; i < 100 && fake.electron.windows.length < count; i++) await new Promise((r) => setTimeout(r, 1));
  const window = fake.electron.windows[count - 1];
  if (!window) throw new Error('no prompt window');
  return window;
}

describe('host key and other yes/no questions', () => {
  it('asks in a native dialog showing the fingerprint, No by default', async () => {
    const { prompt, focused } = setup();
    fake.electron.dialogAnswers.push(0);
    await expect(prompt.ask({ kind: 'confirm', title: 'Unknown host key', message: hostKeyMessage })).resolves.toBe('yes');
    const call = fake.electron.dialogCalls.at(-1);
    expect(call?.options).toMatchObject({ message: 'Unknown host key', buttons: ['Yes', 'No'], defaultId: 1, cancelId: 1 });
    expect(call?.options.detail).toContain('SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8');
    expect(call?.parent).toBeNull();
    expect(focused()).toBe(1);
  });

  it('answers null for No, and attaches to the app window when it is open', async () => {
    const parent = new Window({ webPreferences: {} });
    parent.visible = true;
    const { prompt } = setup({ parent });
    fake.electron.dialogAnswers.push(1);
    await expect(prompt.ask({ kind: 'confirm', title: 'Save passphrase?', message: 'Keep it?' })).resolves.toBeNull();
    expect(fake.electron.dialogCalls.at(-1)?.parent).toBe(parent);
  });

  it('gives up on an unanswered dialog', async () => {
    const { prompt } = setup({ timeoutMs: 20 });
    fake.electron.dialogAnswers.push(new Promise<number>(() => undefined));
    await expect(prompt.ask({ kind: 'confirm', title: 'Unknown host key', message: hostKeyMessage })).resolves.toBeNull();
  });

  it('closes the dialog as soon as the SSH layer stops waiting for it', async () => {
    const { prompt } = setup();
    let dialogSignal: AbortSignal | undefined;
    fake.electron.dialogAnswers.push(new Promise<number>(() => undefined));
    const stop = new AbortController();
    const answer = prompt.ask({ kind: 'confirm', title: 'Unknown host key', message: hostKeyMessage, signal: stop.signal });
    for (let i = 0; i < 100 && !dialogSignal; i++) {
      await new Promise((r) => setTimeout(r, 1));
      dialogSignal = fake.electron.dialogCalls.at(-1)?.options.signal;
    }
    expect(dialogSignal?.aborted).toBe(false);
    stop.abort();
    expect(dialogSignal?.aborted).toBe(true);
    await expect(answer).resolves.toBeNull();
  });
});

describe('codes and passphrases', () => {
  it('asks in a small sandboxed window, which alone may read the question and answer it', async () => {
    const { prompt } = setup();
    const main = new Window({ webPreferences: {} });
    const count = fake.electron.windows.length;
    const answer = prompt.ask({ kind: 'secret', title: 'Login to hpc', message: 'Duo two-factor login\nPasscode or option (1-2):' });
    const window = await nextWindow(count + 1);
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, preload: '/repo/out/preload/index.cjs' });
    expect(window.options).toMatchObject({ alwaysOnTop: true, resizable: false });
    expect(window.loaded).toBe(PROMPT_PAGE_URL);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);

    expect(prompt.isTrusted(eventFrom(main))).toBe(false);
    expect(prompt.isTrusted(eventFrom(window, 'https://evil.example/'))).toBe(false);
    expect(prompt.isTrusted({ sender: window.webContents, senderFrame: { url: PROMPT_PAGE_URL, parent: {} } } as unknown as IpcMainInvokeEvent)).toBe(false);
    expect(prompt.isTrusted(eventFrom(window))).toBe(true);

    expect(await prompt.handlers['prompt:question']()).toEqual({ kind: 'secret', title: 'Login to hpc', message: 'Duo two-factor login\nPasscode or option (1-2):' });
    await prompt.handlers['prompt:answer']('123456');
    await expect(answer).resolves.toBe('123456');
    expect(window.destroyed).toBe(true);
    // Gone with its window: no one may answer any more.
    expect(prompt.isTrusted(eventFrom(window))).toBe(false);
    expect(() => prompt.handlers['prompt:question']()).toThrow(/No question/);
  });

  it('is modal to the app window when that is open', async () => {
    const parent = new Window({ webPreferences: {} });
    parent.visible = true;
    const { prompt } = setup({ parent });
    const count = fake.electron.windows.length;
    const answer = prompt.ask({ kind: 'text', title: 'Login to hpc', message: 'Username:' });
    const window = await nextWindow(count + 1);
    expect(window.options).toMatchObject({ parent, modal: true });
    expect(await prompt.handlers['prompt:question']()).toMatchObject({ kind: 'text' });
    await prompt.handlers['prompt:answer'](null);
    await expect(answer).resolves.toBeNull();
  });

  it('answers null when the window is closed or nobody answers in time', async () => {
    const { prompt } = setup({ timeoutMs: 30 });
    const count = fake.electron.windows.length;
    const closed = prompt.ask({ kind: 'secret', title: 'SSH key passphrase', message: 'Passphrase for ~/.ssh/id_ed25519' });
    (await nextWindow(count + 1)).close();
    await expect(closed).resolves.toBeNull();
    const late = prompt.ask({ kind: 'secret', title: 'SSH key passphrase', message: 'again' });
    const window = await nextWindow(count + 2);
    await expect(late).resolves.toBeNull();
    expect(window.destroyed).toBe(true);
  });

  it('closes the window when the SSH layer stops waiting (its timeout, a failed login), and skips a withdrawn question still in line', async () => {
    const { prompt } = setup();
    const count = fake.electron.windows.length;
    const stop = new AbortController();
    const first = prompt.ask({ kind: 'text', title: 'Two-factor', message: 'Passcode:', signal: stop.signal });
    const withdrawn = new AbortController();
    const second = prompt.ask({ kind: 'text', title: 'Two-factor', message: 'Passcode again:', signal: withdrawn.signal });
    const window = await nextWindow(count + 1);
    withdrawn.abort();
    stop.abort();
    await expect(first).resolves.toBeNull();
    expect(window.destroyed).toBe(true);
    await expect(second).resolves.toBeNull();
    expect(fake.electron.windows.length).toBe(count + 1);
    expect(() => prompt.handlers['prompt:question']()).toThrow('No question is waiting.');
  });

  it('asks one question at a time', async () => {
    const { prompt } = setup();
    const count = fake.electron.windows.length;
    const first = prompt.ask({ kind: 'secret', title: 'Jump host', message: 'Password:' });
    const second = prompt.ask({ kind: 'secret', title: 'Login node', message: 'Password:' });
    await nextWindow(count + 1);
    expect(fake.electron.windows.length).toBe(count + 1);
    expect((await prompt.handlers['prompt:question']()).title).toBe('Jump host');
    await prompt.handlers['prompt:answer']('a');
    await expect(first).resolves.toBe('a');
    await nextWindow(count + 2);
    expect((await prompt.handlers['prompt:question']()).title).toBe('Login node');
    await prompt.handlers['prompt:answer']('b');
    await expect(second).resolves.toBe('b');
  });
});

describe('the prompt page', () => {
  const html = Buffer.from(PROMPT_PAGE_URL.replace(/^data:text\/html;charset=utf-8;base64,/, ''), 'base64').toString('utf8');
  const inline = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)?.[1] ?? '';
  const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

  it('allows exactly its own inline script and style, and nothing remote', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${sha(inline('script'))}`);
    expect(csp).toContain(`style-src ${sha(inline('style'))}`);
    expect(csp).toContain("form-action 'none'");
  });

  it('has no form to submit a secret as a URL, and sets the question as text', () => {
    expect(html).not.toMatch(/<form/i);
    expect(inline('script')).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(inline('script')).toContain('textContent');
  });
});
