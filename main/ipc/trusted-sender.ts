/**
 * Every IPC message's sender is checked before anything else runs (after GitHub Desktop's
 * trusted-ipc-sender.ts). A message is trusted only when it comes from the top frame of a
 * WebContents we created and registered, and that frame shows our own renderer URL — not an
 * iframe, not a page that some bug navigated to.
 */
import type { IpcMainInvokeEvent, WebContents } from 'electron';

export type SenderCheck = (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>) => boolean;

export interface SenderTrust {
  /** Registers a WebContents we created; forgotten again when it is destroyed. */
  trust(contents: WebContents): void;
  isTrusted: SenderCheck;
  /** The registered WebContents that are still alive: where push events go. */
  trusted(): WebContents[];
}

export function createSenderTrust(isOwnUrl: (url: string) => boolean): SenderTrust {
  const trusted = new Set<WebContents>();
  return {
    trust(contents) {
      trusted.add(contents);
      contents.once('destroyed', () => trusted.delete(contents));
    },
    isTrusted({ sender, senderFrame }) {
      if (!trusted.has(sender) || sender.isDestroyed()) return false;
      if (!senderFrame || senderFrame.parent !== null) return false;
      return isOwnUrl(senderFrame.url);
    },
    trusted: () => [...trusted].filter((contents) => !contents.isDestroyed()),
  };
}
