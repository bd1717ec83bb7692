import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalPrompt } from '../../main/cli/terminal-prompt.js';

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input }) as unknown as NodeJS.ReadStream & PassThrough;
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 }) as unknown as NodeJS.WriteStream & PassThrough;
  let shown = '';
  output.on('data', (c: Buffer) => { shown += c.toString('utf8'); });
  return { prompt: new TerminalPrompt(input, output), input, shown: () => shown };
}

describe('questions on the terminal', () => {
  it('reads a 2FA code typed on the terminal', async () => {
    const t = terminal();
    const answer = t.prompt.ask({ kind: 'text', title: 'Two-factor', message: 'Passcode' });
    t.input.write('123456\r');
    await expect(answer).resolves.toBe('123456');
    expect(t.shown()).toContain('Passcode: ');
  });

  it('leaves the question when the login stops waiting for it, and says so', async () => {
    const t = terminal();
    const stop = new AbortController();
    const answer = t.prompt.ask({ kind: 'text', title: 'Two-factor', message: 'Passcode', signal: stop.signal });
    stop.abort();
    await expect(answer).resolves.toBeNull();
    expect(t.shown()).toContain('(no longer waiting for an answer)');
    // A question already withdrawn is not asked at all.
    const before = t.shown();
    await expect(t.prompt.ask({ kind: 'secret', title: 'x', message: 'Passphrase', signal: stop.signal })).resolves.toBeNull();
    expect(t.shown()).toBe(before);
  });

  it('answers null without a terminal (a daemon, a pipe)', async () => {
    const prompt = new TerminalPrompt(new PassThrough() as unknown as NodeJS.ReadStream, new PassThrough() as unknown as NodeJS.WriteStream);
    await expect(prompt.ask({ kind: 'confirm', title: 'Unknown host key', message: 'Trust it?' })).resolves.toBeNull();
  });
});
