/**
 * The seam between the shell and whatever does the work: the composition root (main/index.ts)
 * passes one function per invoke channel. The type requires every channel in the contract,
 * so adding a channel without a handler does not compile.
 */
import { invokeContract } from '../../preload/contract.js';
import type { InvokeChannel } from '../../preload/contract.js';
import { handle } from './handle.js';
import type { InvokeHandler } from './handle.js';
import type { SenderCheck } from './trusted-sender.js';

export type InvokeHandlers = { [C in InvokeChannel]: InvokeHandler<C> };

export interface RegisterHandlersDeps {
  handlers: InvokeHandlers;
  isTrustedSender: SenderCheck;
}

/** Registers a handler for every contract channel; returns a function that removes them all. */
export function registerHandlers({ handlers, isTrustedSender }: RegisterHandlersDeps): () => void {
  const registerOne = <C extends InvokeChannel>(channel: C): (() => void) =>
    handle(channel, handlers[channel], isTrustedSender);
  const removers = (Object.keys(invokeContract) as InvokeChannel[]).map(registerOne);
  return () => {
    for (const remove of removers) remove();
  };
}
