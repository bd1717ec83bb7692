/**
 * Deny by default: only the Slack users in slack.allowedUsers may act (messages, slash commands
 * and button clicks alike). The list is read on every request, so a change applies at once.
 */
import type { Logger } from '../ports.js';

export type RequestKind = 'message' | 'mention' | 'slash_command' | 'button';

export interface AccessControl {
  isAllowed(userId: string): boolean;
  /** Logs the refusal; returns true when the user should also be told (at most once a minute each). */
  refused(userId: string, kind: RequestKind, detail?: Record<string, unknown>): boolean;
}

export const REFUSAL_TEXT =
  'Sorry, you are not allowed to use HPC Relay here. Its owner can add your Slack user ID to slack.allowedUsers.';

export function createAccessControl(allowedUsers: () => readonly string[], logger: Logger, now: () => number = Date.now): AccessControl {
  const log = logger.child({ component: 'slack-access' });
  const lastTold = new Map<string, number>();
  return {
    isAllowed(userId) {
      return typeof userId === 'string' && userId !== '' && allowedUsers().includes(userId);
    },
    refused(userId, kind, detail = {}) {
      log.warn('refused a Slack request from a user not in slack.allowedUsers', { userId, kind, ...detail });
      const t = now();
      const last = lastTold.get(userId);
      if (last !== undefined && t - last < 60_000) return false;
      lastTold.set(userId, t);
      if (lastTold.size > 1000) lastTold.delete(lastTold.keys().next().value ?? '');
      return true;
    },
  };
}
