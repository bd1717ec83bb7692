/**
 * The seam between the shell and whatever does the work: the composition root (main/index.ts)
 * passes one function per invoke channel. The type requires every channel in the contract,
 * so adding a channel without a handler does not compile.
 */
import { invokeContract } from '../../preload/contract.js';
import type { Audience, InvokeChannel } from '../../preload/contract.js';
import { handle } from './handle.js';
import type { InvokeHandler } from './handle.js';
import type { SenderCheck } from './trusted-sender.js';

export type InvokeHandlers = { [C in InvokeChannel]: InvokeHandler<C> };

export interface RegisterHandlersDeps {
  handlers: InvokeHandlers;
  /** Who may call each audience's channels: the app window, the prompt window. */
  senders: Record<Audience, SenderCheck>;
}

/** Registers a handler for every contract channel; returns a function that removes them all. */
export function registerHandlers({ handlers, senders }: RegisterHandlersDeps): () => void {
  const registerOne = <C extends InvokeChannel>(channel: C): (() => void) =>
    handle(channel, handlers[channel], senders[invokeContract[channel].audience]);
  const removers = (Object.keys(invokeContract) as InvokeChannel[]).map(registerOne);
  return () => {
    for (const remove of removers) remove();
  };
}
