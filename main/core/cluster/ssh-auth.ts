import fs from 'node:fs';
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware, type AuthenticationType, type NextAuthHandler } from 'ssh2';

const { utils } = ssh2;
import { RelayError } from '../errors.js';
import type { PromptRequest, PromptUser } from '../ports.js';

/** Where passphrases for encrypted keys come from and go to (the keychain, through SecretsService). */
export interface PassphraseVault {
  get(host: string): Promise<string | null>;
  save(host: string, passphrase: string): Promise<void>;
}

/** How long a person gets to answer a login prompt (2FA code, Duo push, passphrase, password). */
export const DEFAULT_PROMPT_TIMEOUT_MS = 120_000;

export interface AuthPlanInput {
  /** The host as the user knows it, for prompts and messages. */
  alias: string;
  /** Whose passphrase to look up and save in the vault (default: alias). */
  vaultName?: string;
  user: string;
  identityFiles: string[];
  agentSocket?: string | undefined;
  prompt: PromptUser;
  vault: PassphraseVault;
  /**
   * Passphrases entered while this process runs, by key file, so a reconnect (after sleep, a
   * dropped link) does not ask again. Kept in memory only; saved to the vault only on a yes.
   */
  remembered?: Map<string, string>;
  promptTimeoutMs?: number;
  /** The login cannot go on (a prompt went unanswered): the caller ends the connection with `e`. */
  onFatal?: (e: RelayError) => void;
  /** Something worth a log line (never a secret: messages here are built from names only). */
  onNote?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface AuthPlan {
  handler: AuthHandlerMiddleware;
  /** What was attempted, in order, for the error when every method fails. */
  tried: string[];
  /** True once every method was used up (ssh2 then reports "All configured authentication methods failed"). */
  readonly exhausted: boolean;
}

type Attempt = () => Promise<AnyAuthMethod | null>;

class PromptTimeout extends RelayError {}

function askInTime(prompt: PromptUser, req: PromptRequest, ms: number, what: string, alias: string): Promise<string | null> {
  // The prompt closes when we stop waiting for it: no 2FA window left open after the login gave up.
  const stop = new AbortController();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop.abort();
      reject(new PromptTimeout('SSH_2FA_TIMEOUT', `${what} from ${alias} got no answer within ${Math.max(1, Math.round(ms / 1000))} s, so the login was abandoned.`, {
        fix: 'Connect again and answer the prompt promptly (for Duo, approve the push on your phone).',
      }));
    }, ms);
    prompt.ask({ ...req, signal: req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal }).then(
      (a) => { clearTimeout(timer); resolve(a); },
      (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); },
    );
  });
}

/** The prompt line as the server sent it, for the message only (never the answer). */
function quotePrompt(p: string): string {
  const one = p.trim().split('\n').at(-1) ?? '';
  return one.length > 80 ? `${one.slice(0, 77)}…` : one;
}

/**
 * The order a researcher expects: ssh-agent, then key files (an encrypted key's passphrase from
 * the vault, else asked once and saved only on an explicit yes), then keyboard-interactive (2FA
 * prompts forwarded verbatim, each answered once), then a password. Methods the server does not
 * offer are skipped. `tried` records what was attempted, for the error when all fail.
 */
export function createAuthHandler(input: AuthPlanInput): AuthPlan {
  const tried: string[] = [];
  const { user, alias, prompt, vault } = input;
  const vaultName = input.vaultName ?? alias;
  const remembered = input.remembered ?? new Map<string, string>();
  const promptMs = input.promptTimeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS;
  const note = input.onNote ?? (() => undefined);
  const ask = (req: PromptRequest, what: string) => askInTime(prompt, req, promptMs, what, alias);
  const attempts: { method: AuthenticationType; run: Attempt }[] = [];
  let exhausted = false;

  if (input.agentSocket) {
    const agent = input.agentSocket;
    attempts.push({ method: 'publickey', run: async () => { tried.push('ssh-agent'); return { type: 'agent', username: user, agent }; } });
  }
  for (const file of input.identityFiles) {
    attempts.push({
      method: 'publickey',
      run: async () => {
        let data: Buffer;
        try {
          data = fs.readFileSync(file);
        } catch {
          return null; // OpenSSH silently skips missing default identities too
        }
        const plain = utils.parseKey(data);
        if (!(plain instanceof Error)) {
          tried.push(`key ${file}`);
          return { type: 'publickey', username: user, key: plain };
        }
        const opens = (pass: string | null | undefined) => {
          if (!pass) return null;
          const k = utils.parseKey(data, pass);
          return k instanceof Error ? null : k;
        };
        const known = remembered.get(file);
        let key = opens(known);
        if (!key) {
          const stored = await vault.get(vaultName).catch(() => null);
          key = opens(stored);
          if (key && stored) remembered.set(file, stored);
          else if (stored) note('the stored passphrase does not open the key', { file });
        }
        if (!key) {
          // OpenSSH asks up to three times (NumberOfPasswordPrompts); so do we, then move on.
          for (let i = 0; i < 3 && !key; i++) {
            const pass = await ask({ kind: 'secret', title: 'SSH key passphrase', message: i === 0 ? `Passphrase for ${file}` : `That passphrase does not open ${file}. Try again:` }, 'The passphrase prompt');
            if (pass === null) {
              tried.push(`key ${file} (no passphrase given)`);
              return null;
            }
            key = opens(pass);
            if (!key) continue;
            remembered.set(file, pass);
            const keep = await ask({ kind: 'confirm', title: 'Save passphrase?', message: `Keep the passphrase for ${file} in your keychain, so HPC Relay can reconnect without asking?` }, 'The save-passphrase question');
            if (keep !== null) {
              await vault.save(vaultName, pass).catch((e: unknown) => note('could not save the passphrase', { error: e instanceof Error ? e.message : String(e) }));
            }
          }
          if (!key) {
            tried.push(`key ${file} (wrong passphrase)`);
            return null;
          }
        }
        tried.push(`key ${file}`);
        return { type: 'publickey', username: user, key };
      },
    });
  }
  attempts.push({
    method: 'keyboard-interactive',
    run: async () => {
      tried.push('keyboard-interactive');
      return {
        type: 'keyboard-interactive',
        username: user,
        prompt: (name, instructions, _lang, prompts, finish) => {
          void (async () => {
            const answers: string[] = [];
            for (const p of prompts) {
              const header = [name, instructions].filter(Boolean).join('\n');
              let a: string | null;
              try {
                // Verbatim: the server's own words (Duo menus, OTP hints) are what the user needs.
                a = await ask({ kind: p.echo ? 'text' : 'secret', title: `Login to ${alias}`, message: header ? `${header}\n${p.prompt}` : p.prompt }, `The login prompt "${quotePrompt(p.prompt)}"`);
              } catch (e) {
                if (e instanceof RelayError) input.onFatal?.(e);
                return finish([]);
              }
              if (a === null) return finish([]);
              answers.push(a);
            }
            finish(answers);
          })();
        },
      };
    },
  });
  attempts.push({
    method: 'password',
    run: async () => {
      const password = await ask({ kind: 'secret', title: `Login to ${alias}`, message: `Password for ${user}@${alias}` }, 'The password prompt');
      tried.push(password === null ? 'password (not given)' : 'password');
      if (password === null) return null;
      return { type: 'password', username: user, password };
    },
  });

  let i = 0;
  const handler: AuthHandlerMiddleware = (methodsLeft, _partial, next: NextAuthHandler) => {
    void (async () => {
      while (i < attempts.length) {
        const a = attempts[i++];
        if (!a) break;
        // On the first call methodsLeft is null; afterwards skip what the server does not offer.
        if (methodsLeft && !methodsLeft.includes(a.method)) continue;
        let m: AnyAuthMethod | null = null;
        try {
          m = await a.run();
        } catch (e) {
          if (e instanceof PromptTimeout) {
            input.onFatal?.(e);
            return;
          }
          note('an authentication method could not be used', { method: a.method, error: e instanceof Error ? e.message : String(e) });
        }
        if (m) return next(m);
      }
      exhausted = true;
      // ssh2 takes `false` for "no more methods"; its typings omit it.
      (next as unknown as (v: false) => void)(false);
    })();
  };
  return { handler, tried, get exhausted() { return exhausted; } };
}
