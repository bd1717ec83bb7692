/**
 * Typed `ipcMain.handle` over preload/contract.ts. Each call is checked in this order:
 * trusted sender, then arguments against the channel's zod schema; a call failing either is
 * rejected (the renderer's promise rejects) and the handler never runs. Errors the handler
 * throws come back as `{ ok: false, error: { code, message, fix } }` so the renderer keeps the
 * code and the fix (Electron would flatten a thrown Error to a string). The checks after the
 * sender's live in invoke.ts, which has no Electron in it.
 */
import { ipcMain } from 'electron';
import type { InvokeChannel, InvokeResult, IpcResult } from '../../preload/contract.js';
import { invokeChecked } from './invoke.js';
import type { InvokeHandler } from './invoke.js';
import type { SenderCheck } from './trusted-sender.js';

export type { InvokeHandler } from './invoke.js';
export { toIpcFailure } from './invoke.js';

/** Registers the handler for one channel; returns a function that removes it. */
export function handle<C extends InvokeChannel>(channel: C, handler: InvokeHandler<C>, isTrusted: SenderCheck): () => void {
  ipcMain.handle(channel, async (event, ...rawArgs: unknown[]): Promise<IpcResult<InvokeResult<C>>> => {
    if (!isTrusted(event)) {
      console.warn(`ipc: rejected ${channel} from untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`);
      throw new Error(`${channel}: sender is not trusted`);
    }
    return invokeChecked(channel, handler, rawArgs);
  });
  return () => ipcMain.removeHandler(channel);
}
