import fs from 'node:fs';
import ssh2, { type AnyAuthMethod, type AuthHandlerMiddleware, type AuthenticationType, type NextAuthHandler } from 'ssh2';

const { utils } = ssh2;
import type { PromptUser } from '../ports.js';

/** Where passphrases for encrypted keys come from and go to (the keychain, through SecretsService). */
export interface PassphraseVault {
  get(host: string): Promise<string | null>;
  save(host: string, passphrase: string): Promise<void>;
}

export interface AuthPlanInput {
  alias: string;
  user: string;
  identityFiles: string[];
  agentSocket?: string | undefined;
  prompt: PromptUser;
  vault: PassphraseVault;
}

type Attempt = () => Promise<AnyAuthMethod | null>;

/**
 * The order a researcher expects: ssh-agent, then key files (asking once for a passphrase and
 * optionally keeping it in the keychain), then keyboard-interactive (2FA prompts forwarded verbatim),
 * then a password. `tried` records what was attempted, for the error when all fail.
 */
export function createAuthHandler(input: AuthPlanInput): { handler: AuthHandlerMiddleware; tried: string[] } {
  const tried: string[] = [];
  const { user, alias, prompt, vault } = input;
  const attempts: { method: AuthenticationType; run: Attempt }[] = [];

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
        tried.push(`key ${file}`);
        const plain = utils.parseKey(data);
        if (!(plain instanceof Error)) return { type: 'publickey', username: user, key: data };
        let passphrase = await vault.get(alias);
        if (passphrase === null || utils.parseKey(data, passphrase) instanceof Error) {
          passphrase = await prompt.ask({ kind: 'secret', title: 'SSH key passphrase', message: `Passphrase for ${file}` });
          if (passphrase === null) return null;
          if (utils.parseKey(data, passphrase) instanceof Error) return null;
          const keep = await prompt.ask({ kind: 'confirm', title: 'Save passphrase?', message: `Keep the passphrase for ${file} in your keychain?` });
          if (keep !== null) await vault.save(alias, passphrase);
        }
        return { type: 'publickey', username: user, key: data, passphrase };
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
              const a = await prompt.ask({ kind: p.echo ? 'text' : 'secret', title: `Login to ${alias}`, message: header ? `${header}\n${p.prompt}` : p.prompt });
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
      const password = await prompt.ask({ kind: 'secret', title: `Login to ${alias}`, message: `Password for ${user}@${alias}` });
      if (password === null) return null;
      tried.push('password');
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
        const m = await a.run().catch(() => null);
        if (m) return next(m);
      }
      // ssh2 takes `false` for "no more methods"; its typings omit it.
      (next as unknown as (v: false) => void)(false);
    })();
  };
  return { handler, tried };
}
