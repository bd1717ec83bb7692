import type { ClientChannel } from 'ssh2';
import { RelayError } from '../errors.js';
import { commandLine } from './shell-quote.js';
import type { SshSession } from './ssh-session.js';

export interface StreamHandle {
  /** Settles when the remote command ends or the channel closes (connection lost included). */
  readonly closed: Promise<{ code: number | null; signal: string | null }>;
  /** Ends the remote command: closes its stdin (see FOLLOW_FILE_SCRIPT), then the channel. */
  close(): void;
}

/**
 * A long-lived exec channel on the shared SSH connection whose output arrives as it is written
 * (ssh-session.ts's exec collects output until the command ends). The channel stays open, with
 * stdin open, until close(); the argv is quoted in shell-quote.ts like every other command.
 *
 * It opens its channel directly on the session's client, outside the session's channel limit:
 * one such stream stays well inside OpenSSH's MaxSessions (10) next to the limit of 8.
 */
export async function openStream(session: SshSession, argv: readonly string[], onData: (chunk: Buffer) => void, onStderr?: (chunk: Buffer) => void): Promise<StreamHandle> {
  const line = commandLine(argv);
  const client = await session.connect();
  const ch = await new Promise<ClientChannel>((resolve, reject) => {
    client.exec(line, (err, channel) => {
      if (err) reject(new RelayError('SSH_CHANNEL_FAILED', `Could not open a streaming channel on the SSH connection: ${err.message}.`, { fix: 'It is retried after the connection comes back.', cause: err }));
      else resolve(channel);
    });
  });
  let code: number | null = null;
  let signal: string | null = null;
  ch.on('data', (d: Buffer) => onData(d));
  ch.stderr.on('data', (d: Buffer) => onStderr?.(d));
  ch.on('exit', (c: number | null, s?: string) => { code = c; signal = s ?? null; });
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    ch.on('close', () => resolve({ code, signal }));
  });
  let closing = false;
  return {
    closed,
    close() {
      if (closing) return;
      closing = true;
      ch.end();
      ch.close();
    },
  };
}

/**
 * Follows a file from a byte offset (`tail -c +N -F`, so lines written while nobody watched are
 * replayed) and stops when the channel's stdin closes: the tail runs in the background while the
 * shell waits on stdin, so a closed or dropped connection never leaves a tail on the login node.
 * A constant script; the file and the offset are positional parameters.
 */
export const FOLLOW_FILE_SCRIPT = 'tail -c "+$2" -F "$1" 2>/dev/null & t=$!; trap \'kill $t 2>/dev/null\' EXIT HUP TERM; cat >/dev/null';

export function followFileArgv(file: string, fromByte: number): string[] {
  return ['sh', '-c', FOLLOW_FILE_SCRIPT, 'sh', file, String(Math.max(0, Math.floor(fromByte)) + 1)];
}
