/**
 * PromptUser for the app: the SSH layer's questions as the user sees them.
 * - `secret` / `text` (2FA codes, key passphrases, passwords): a small window with one field,
 *   modal to the app window when that is open, else on top of everything (the app may live in
 *   the tray only). Secrets are typed into a password field and travel back over one IPC call.
 * - `confirm` (an unknown host key, with its SHA256 fingerprint in the message; saving a
 *   passphrase): a native dialog whose default button is No.
 * One question at a time; an unanswered one gives up (null) after a while, as the SSH layer does,
 * and closes at once when the SSH layer stops waiting for it (`req.signal`).
 */
import { BrowserWindow, dialog } from 'electron';
import type { MessageBoxOptions } from 'electron';
import type { PromptRequest, PromptUser } from '../core/ports.js';
import type { InvokeHandler } from '../ipc/handle.js';
import type { SenderCheck } from '../ipc/trusted-sender.js';
import type { PromptQuestion } from '../../preload/contract.js';
import { secureWebPreferences } from '../app/security.js';
import { PROMPT_PAGE_URL } from './prompt-page.js';

export interface ElectronPromptDeps {
  preloadPath: string;
  /** The app window when it is visible: questions attach to it. */
  parent(): BrowserWindow | null;
  /** Brings the app to the front (macOS without a dock icon does not do it by itself). */
  focusApp(): void;
  /** Give up on an unanswered question after this long; default a little over the SSH layer's 120 s. */
  timeoutMs?: number;
}

interface Open {
  question: PromptQuestion;
  window: BrowserWindow;
  answer(value: string | null): void;
}

export const DEFAULT_PROMPT_WINDOW_TIMEOUT_MS = 125_000;

export class ElectronPrompt implements PromptUser {
  private chain: Promise<unknown> = Promise.resolve();
  private open: Open | null = null;

  constructor(private readonly deps: ElectronPromptDeps) {}

  ask(req: PromptRequest): Promise<string | null> {
    // A question whose asker gave up while it waited its turn is not shown at all.
    const run = this.chain.then(() => (req.signal?.aborted ? null : req.kind === 'confirm' ? this.confirm(req) : this.input(req)));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Only the prompt window that is open now, showing the prompt page, may call the prompt channels. */
  readonly isTrusted: SenderCheck = ({ sender, senderFrame }) => {
    const open = this.open;
    if (!open || open.window.isDestroyed() || sender !== open.window.webContents || sender.isDestroyed()) return false;
    return senderFrame !== null && senderFrame !== undefined && senderFrame.parent === null && senderFrame.url === PROMPT_PAGE_URL;
  };

  readonly handlers: { 'prompt:question': InvokeHandler<'prompt:question'>; 'prompt:answer': InvokeHandler<'prompt:answer'> } = {
    'prompt:question': () => {
      if (!this.open) throw new Error('No question is waiting.');
      return this.open.question;
    },
    'prompt:answer': (value) => {
      this.open?.answer(value);
      return null;
    },
  };

  private get timeoutMs(): number {
    return this.deps.timeoutMs ?? DEFAULT_PROMPT_WINDOW_TIMEOUT_MS;
  }

  private async confirm(req: PromptRequest): Promise<string | null> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const onGiveUp = (): void => abort.abort();
    req.signal?.addEventListener('abort', onGiveUp, { once: true });
    const options: MessageBoxOptions = {
      type: 'question',
      title: 'HPC Relay',
      message: req.title,
      detail: req.message,
      buttons: ['Yes', 'No'],
      defaultId: 1,
      cancelId: 1,
      noLink: true,
      signal: abort.signal,
    };
    try {
      this.deps.focusApp();
      const parent = this.deps.parent();
      const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
      return response === 0 && !abort.signal.aborted ? 'yes' : null;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onGiveUp);
    }
  }

  private input(req: PromptRequest): Promise<string | null> {
    return new Promise((resolve) => {
      const parent = this.deps.parent();
      const window = new BrowserWindow({
        title: req.title,
        width: 440,
        height: 250,
        useContentSize: true,
        resizable: false,
        minimizable: false,
        maximizable: false,
        fullscreenable: false,
        show: false,
        ...(parent ? { parent, modal: true } : { alwaysOnTop: true }),
        // A code or a passphrase is not for the spell checker.
        webPreferences: { ...secureWebPreferences(this.deps.preloadPath), spellcheck: false },
      });
      let settled = false;
      const finish = (value: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onGiveUp);
        this.open = null;
        if (!window.isDestroyed()) window.close();
        resolve(value);
      };
      const timer = setTimeout(() => finish(null), this.timeoutMs);
      // The SSH layer stopped waiting (its own timeout, the login failed): close the window now.
      const onGiveUp = (): void => finish(null);
      req.signal?.addEventListener('abort', onGiveUp, { once: true });
      this.open = { question: { kind: req.kind === 'secret' ? 'secret' : 'text', title: req.title, message: req.message }, window, answer: finish };
      window.on('closed', () => finish(null));
      window.once('ready-to-show', () => {
        this.deps.focusApp();
        window.show();
        window.focus();
      });
      window.loadURL(PROMPT_PAGE_URL).catch(() => finish(null));
    });
  }
}
