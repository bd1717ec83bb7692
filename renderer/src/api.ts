/**
 * The renderer's only way to main: `window.hpc`, put there by the preload. Its type comes from
 * preload/contract.ts (type-only import: no runtime code crosses over).
 */
import type { HpcApi, IpcResult } from '../../preload/contract';

declare global {
  interface Window {
    readonly hpc?: HpcApi;
  }
}

export function hpc(): HpcApi {
  if (!window.hpc) throw new Error('window.hpc is missing: this page only works inside the HPC Relay app.');
  return window.hpc;
}

/** A failed call, with the code and fix main sent along. */
export class HpcError extends Error {
  readonly code: string;
  readonly fix: string | null;

  constructor(code: string, message: string, fix: string | null) {
    super(message);
    this.name = 'HpcError';
    this.code = code;
    this.fix = fix;
  }
}

/** Awaits a `window.hpc` call: its value, or an HpcError carrying the code and fix. */
export async function call<T>(pending: Promise<IpcResult<T>>): Promise<T> {
  const result = await pending;
  if (result.ok) return result.value;
  throw new HpcError(result.error.code, result.error.message, result.error.fix);
}
