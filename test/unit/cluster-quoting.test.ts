import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, quoteArg, quoteRemotePath } from '../../main/core/cluster/shell-quote.js';

/** What a real POSIX shell makes of our command line: each argv element, NUL-separated. */
function shellArgv(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('remote command quoting (the one place a shell line is made)', () => {
  const hostile = [
    "'$(touch /tmp/pwned)'; rm -rf x",
    '`id`', '$HOME', '${IFS}', 'a b\tc\nd', "it's", '"double"', '\\', '*', '~', '-n', '', '--', ';|&<>', 'ünïcödé ✓', '!event', 'x'.repeat(5000),
  ];

  it('passes every argument through a real sh verbatim', () => {
    expect(shellArgv(commandLine(hostile))).toEqual(hostile);
  });

  it('leaves plain words readable and quotes everything else', () => {
    expect(commandLine(['sinfo', '--noheader', '--format=%P|%a'])).toBe("sinfo --noheader '--format=%P|%a'");
    expect(quoteArg('')).toBe("''");
    expect(quoteArg("a'b")).toBe("'a'\\''b'");
  });

  it('refuses NUL bytes and empty commands with a clear error', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL byte/);
    expect(() => commandLine([])).toThrow(/program name/);
  });

  it('expands only a leading $HOME or ~ in remote paths', () => {
    const home = process.env.HOME ?? '/root';
    expect(shellArgv(quoteRemotePath('$HOME/runs/$(id)'))).toEqual([`${home}/runs/$(id)`]);
    expect(shellArgv(quoteRemotePath('~/a b'))).toEqual([`${home}/a b`]);
    expect(shellArgv(quoteRemotePath('/scratch/$USER'))).toEqual(['/scratch/$USER']);
  });
});
