/**
 * The window's approval channels over the core's pending approvals (main/core/runtime/approvals.ts):
 * the list, and a decision made by the person at the window. Arguments are checked against the
 * contract first (an approval id's shape, a boolean); the core refuses an approval that no longer
 * waits. No Electron here: the renderer tests bind these same functions into a browser page.
 */
import type { ChannelsFor } from '../../preload/contract.js';
import type { Core } from '../core/index.js';
import { pendingApprovals } from '../core/runtime/approvals.js';
import type { InvokeHandler } from './invoke.js';

export type ApprovalHandlers = { [C in Extract<ChannelsFor<'window'>, `approvals:${string}`>]: InvokeHandler<C> };

export interface ApprovalHandlerDeps {
  core(): Promise<Core>;
  /** Who sits at the window (the local user's name): what Slack and the audit log are told decided. */
  windowUser(): string;
}

export function approvalHandlers({ core, windowUser }: ApprovalHandlerDeps): ApprovalHandlers {
  return {
    'approvals:list': async () => pendingApprovals(await core()).list(),
    'approvals:decide': async (id, approve) => pendingApprovals(await core()).decide(id, approve, windowUser()),
  };
}
