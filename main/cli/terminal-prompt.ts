import readline from 'node:readline';
import type { PromptRequest, PromptUser } from '../core/ports.js';

/**
 * PromptUser for the terminal: 2FA codes, passphrases and host-key questions are asked on the
 * controlling terminal. Without one (a daemon, a pipe) nothing can be asked and the answer is null.
 */
export class TerminalPrompt implements PromptUser {
  constructor(private readonly input: NodeJS.ReadStream = process.stdin, private readonly output: NodeJS.WriteStream = process.stderr) {}

  ask(req: PromptRequest): Promise<string | null> {
    if (!this.input.isTTY || req.signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const rl = readline.createInterface({ input: this.input, output: this.output, terminal: true });
      // The asker stopped waiting (the login timed out or failed): leave the line and answer nothing.
      const onAbort = (): void => {
        rl.close();
        this.output.write('\n(no longer waiting for an answer)\n');
        resolve(null);
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const question = req.kind === 'confirm' ? `${req.message} [y/N] ` : `${req.message}: `;
      let muted = false;
      // Hide what is typed for secrets: readline echoes through _writeToOutput.
      const anyRl = rl as unknown as { _writeToOutput: (s: string) => void };
      const write = anyRl._writeToOutput.bind(rl);
      anyRl._writeToOutput = (s: string) => { if (!muted) write(s); };
      rl.question(question, (answer) => {
        req.signal?.removeEventListener('abort', onAbort);
        rl.close();
        if (muted) this.output.write('\n');
        if (req.kind === 'confirm') resolve(/^y(es)?$/i.test(answer.trim()) ? 'yes' : null);
        else resolve(answer.length ? answer : null);
      });
      muted = req.kind === 'secret';
    });
  }
}

/** Reads all of standard input (for `secrets set`, whose value never comes from argv). */
export async function readStdin(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
