/**
 * What happens to one invoke call once its sender is trusted, without Electron: the arguments are
 * checked against the channel's zod schema (a call failing that is rejected and the handler never
 * runs), then the handler runs and its errors come back as `{ ok: false, error: { code, message,
 * fix } }`. handle.ts puts this behind ipcMain; the renderer tests put it behind a page binding,
 * so the window in the browser talks to the same handlers the app registers.
 */
import { invokeContract } from '../../preload/contract.js';
import type { InvokeArgs, InvokeChannel, InvokeResult, IpcFailure, IpcResult } from '../../preload/contract.js';
import { describeError, isRelayError } from '../core/errors.js';

export type InvokeHandler<C extends InvokeChannel> = (
  ...args: InvokeArgs<C>
) => InvokeResult<C> | Promise<InvokeResult<C>>;

/** Arguments that do not match the channel's schema: the call is refused before the handler runs. */
export class InvalidArguments extends Error {
  constructor(channel: string, problems: string) {
    super(`${channel}: invalid arguments: ${problems}`);
    this.name = 'InvalidArguments';
  }
}

export async function invokeChecked<C extends InvokeChannel>(
  channel: C,
  handler: InvokeHandler<C>,
  rawArgs: unknown[],
  onFailure: (e: unknown) => void = (e) => console.error(`ipc: ${channel} failed`, e),
): Promise<IpcResult<InvokeResult<C>>> {
  const parsed = invokeContract[channel].args.safeParse(rawArgs);
  if (!parsed.success) throw new InvalidArguments(channel, parsed.error.issues.map((i) => i.message).join('; '));
  try {
    // safeParse of this channel's own schema: the data has this channel's argument types.
    const value = await handler(...(parsed.data as InvokeArgs<C>));
    return { ok: true, value };
  } catch (e) {
    onFailure(e);
    return { ok: false, error: toIpcFailure(e) };
  }
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
