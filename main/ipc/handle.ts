/**
 * Typed `ipcMain.handle` over preload/contract.ts. Each call is checked in this order:
 * trusted sender, then arguments against the channel's zod schema; a call failing either is
 * rejected (the renderer's promise rejects) and the handler never runs. Errors the handler
 * throws come back as `{ ok: false, error: { code, message, fix } }` so the renderer keeps the
 * code and the fix (Electron would flatten a thrown Error to a string).
 */
import { ipcMain } from 'electron';
import { invokeContract } from '../../preload/contract.js';
import type { InvokeArgs, InvokeChannel, InvokeResult, IpcFailure, IpcResult } from '../../preload/contract.js';
import { describeError, isRelayError } from '../core/errors.js';
import type { SenderCheck } from './trusted-sender.js';

export type InvokeHandler<C extends InvokeChannel> = (
  ...args: InvokeArgs<C>
) => InvokeResult<C> | Promise<InvokeResult<C>>;

/** Registers the handler for one channel; returns a function that removes it. */
export function handle<C extends InvokeChannel>(channel: C, handler: InvokeHandler<C>, isTrusted: SenderCheck): () => void {
  const { args: argsSchema } = invokeContract[channel];
  ipcMain.handle(channel, async (event, ...rawArgs: unknown[]): Promise<IpcResult<InvokeResult<C>>> => {
    if (!isTrusted(event)) {
      console.warn(`ipc: rejected ${channel} from untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`);
      throw new Error(`${channel}: sender is not trusted`);
    }
    const parsed = argsSchema.safeParse(rawArgs);
    if (!parsed.success) {
      throw new Error(`${channel}: invalid arguments: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    try {
      // safeParse of this channel's own schema: the data has this channel's argument types.
      const value = await handler(...(parsed.data as InvokeArgs<C>));
      return { ok: true, value };
    } catch (e) {
      console.error(`ipc: ${channel} failed`, e);
      return { ok: false, error: toIpcFailure(e) };
    }
  });
  return () => ipcMain.removeHandler(channel);
}

export function toIpcFailure(e: unknown): IpcFailure {
  if (isRelayError(e)) {
    const fix = e.fix ?? null;
    // RelayError appends the fix to its message; the renderer shows the two apart.
    const message = fix && e.message.endsWith(` ${fix}`) ? e.message.slice(0, -fix.length - 1) : e.message;
    return { code: e.code, message, fix };
  }
  return { code: 'UNEXPECTED', message: describeError(e), fix: null };
}
