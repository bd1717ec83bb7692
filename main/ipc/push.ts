/**
 * Typed main -> renderer events over preload/contract.ts. Payloads are checked against the
 * contract here, so a wrong shape fails loudly in main instead of confusing the renderer.
 */
import type { WebContents } from 'electron';
import { pushContract } from '../../preload/contract.js';
import type { PushEvent, PushPayload } from '../../preload/contract.js';

export function push<E extends PushEvent>(targets: Iterable<WebContents>, event: E, payload: PushPayload<E>): void {
  const checked = pushContract[event].payload.parse(payload);
  for (const contents of targets) {
    if (!contents.isDestroyed()) contents.send(event, checked);
  }
}
