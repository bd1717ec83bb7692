import { RelayError } from '../errors.js';

/**
 * The one place where anything becomes a remote shell line. Every argument is wrapped in POSIX
 * single quotes (with embedded quotes spelled '\''), so the remote shell sees each argv element
 * verbatim: no expansion, no word splitting, no command substitution.
 */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new RelayError('USAGE', 'A remote command argument contains a NUL byte, which no shell can pass.', { fix: 'Remove the NUL byte from the argument.' });
  }
  if (arg !== '' && /^[A-Za-z0-9_\-./=:,+@%^]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new RelayError('USAGE', 'A remote command needs at least a program name.');
  return argv.map(quoteArg).join(' ');
}

/**
 * A remote working directory such as `$HOME/hpc-relay` or `~/runs`: the leading home reference is
 * the only part left for the shell to expand; the rest is quoted like any argument.
 */
export function quoteRemotePath(p: string): string {
  const m = /^(?:\$HOME|~)(\/.*)?$/.exec(p);
  if (m) return m[1] ? `"$HOME"${quoteArg(m[1])}` : '"$HOME"';
  return quoteArg(p);
}
