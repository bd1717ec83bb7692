import { isDeepStrictEqual } from 'node:util';
import type { LinkStatus, StatusBoard, StatusSnapshot } from '../ports.js';
import type { SessionState } from '../cluster/ssh-session.js';

const OFF: LinkStatus = { state: 'off' };

/**
 * The status snapshot the tray and the window show: the SSH link (published by the core), Slack
 * and the model (by their services), running jobs (by the job service). In memory; a part that
 * never publishes stays `off` (or `jobs: null`).
 */
export function createStatusBoard(): StatusBoard {
  let current: StatusSnapshot = { ssh: OFF, slack: OFF, model: OFF, jobs: null };
  const listeners = new Set<(s: StatusSnapshot) => void>();
  return {
    snapshot: () => structuredClone(current),
    publish(part) {
      const next = { ...current, ...part };
      if (isDeepStrictEqual(next, current)) return;
      current = next;
      for (const listener of [...listeners]) {
        try {
          listener(structuredClone(current));
        } catch {
          // A listener's bug must not stop the others or the publisher.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The SSH session's own state as a link status: a waiting prompt is the user's move. */
export function sshLinkStatus(s: SessionState): LinkStatus {
  switch (s.kind) {
    case 'connected':
      return { state: 'connected' };
    case 'connecting':
      return { state: 'connecting' };
    case 'prompting':
      return { state: 'attention', detail: s.message };
    case 'disconnected':
      return s.reason ? { state: 'disconnected', detail: s.reason } : { state: 'disconnected' };
  }
}
