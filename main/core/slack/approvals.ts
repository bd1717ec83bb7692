/**
 * Approve/deny buttons for actions that change remote state. A button carries only an unguessable
 * approval id; the action itself stays here, so a click cannot smuggle in a different action.
 * Each approval is decided once: a replayed click, a click after expiry, or a click on an id this
 * process never issued is refused. Who may click is checked by the caller (the allowlist) before
 * `decide()` — a refused click never reaches it.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports.js';
import { systemClock } from '../ports.js';
import { actions, clipText, codeBlock, escapeText, section } from './format.js';
import type { Block } from './format.js';
import type { ApprovalOutcome, ApprovalRequest } from './jobs-api.js';

export const APPROVE_ACTION = 'hpc_approve';
export const DENY_ACTION = 'hpc_deny';
export const DEFAULT_APPROVAL_TTL_MS = 30 * 60_000;

export interface OpenApproval extends ApprovalRequest {
  requestedBy: string;
  /** Runs once when approved; its sentence replaces the buttons. */
  onApprove?: (by: string) => Promise<string>;
}

export type Decision =
  | { kind: 'done'; approved: boolean; text: string }
  | { kind: 'unknown' }
  | { kind: 'already'; by: string | null; approved: boolean | null }
  | { kind: 'expired' };

interface Pending {
  id: string;
  req: OpenApproval;
  expiresAt: number;
  resolve: (o: ApprovalOutcome) => void;
  timer: { cancel(): void };
}

const ID = /^[A-Za-z0-9_-]{22}$/;

export class ApprovalBroker {
  private readonly pending = new Map<string, Pending>();
  /** Decided ids, remembered so a replay is named as one (bounded). */
  private readonly decided = new Map<string, { by: string | null; approved: boolean | null }>();

  constructor(private readonly clock: Clock = systemClock, private readonly maxRemembered = 5000) {}

  /** Registers an approval; post `blocks` where the approvers see them. */
  open(req: OpenApproval): { id: string; text: string; blocks: Block[]; outcome: Promise<ApprovalOutcome> } {
    const id = randomBytes(16).toString('base64url');
    const ttl = req.ttlMs ?? DEFAULT_APPROVAL_TTL_MS;
    let resolve!: (o: ApprovalOutcome) => void;
    const outcome = new Promise<ApprovalOutcome>((r) => { resolve = r; });
    const timer = this.clock.setTimeout(() => this.expire(id), ttl);
    this.pending.set(id, { id, req, expiresAt: this.clock.now() + ttl, resolve, timer });
    const text = `Approval needed: ${req.summary}`;
    const blocks: Block[] = [
      section(`:warning: *Approval needed:* ${escapeText(req.summary)}${req.detail ? `\n${codeBlock(clipText(req.detail, 2500))}` : ''}`),
      actions(`approval:${id}`, [
        { text: 'Approve', actionId: APPROVE_ACTION, value: id, style: 'primary' },
        { text: 'Deny', actionId: DENY_ACTION, value: id, style: 'danger' },
      ]),
    ];
    return { id, text, blocks, outcome };
  }

  isPending(id: string): boolean {
    return this.pending.has(id);
  }

  /** An allowlisted user clicked approve or deny on approval `id`. */
  async decide(id: string, approve: boolean, userId: string): Promise<Decision> {
    if (!ID.test(id)) return { kind: 'unknown' };
    const p = this.pending.get(id);
    if (!p) {
      const past = this.decided.get(id);
      return past ? { kind: 'already', ...past } : { kind: 'unknown' };
    }
    if (this.clock.now() >= p.expiresAt) {
      this.expire(id);
      return { kind: 'expired' };
    }
    // Taken out before anything awaits: a second click racing this one finds it decided.
    this.pending.delete(id);
    p.timer.cancel();
    this.remember(id, userId, approve);
    if (!approve) {
      p.resolve({ approved: false, by: userId, reason: 'denied' });
      return { kind: 'done', approved: false, text: `Denied by <@${userId}>: ${escapeText(p.req.summary)}.` };
    }
    p.resolve({ approved: true, by: userId });
    let result = '';
    if (p.req.onApprove) {
      try {
        result = await p.req.onApprove(userId);
      } catch (e) {
        result = `It failed: ${escapeText(e instanceof Error ? e.message : String(e))}`;
      }
    }
    return { kind: 'done', approved: true, text: `Approved by <@${userId}>: ${escapeText(p.req.summary)}.${result ? ` ${result}` : ''}` };
  }

  /** Resolves every open approval as not approved (shutdown). */
  closeAll(): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.resolve({ approved: false, by: null, reason: 'stopped' });
    }
    this.pending.clear();
  }

  private expire(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.timer.cancel();
    this.remember(id, null, null);
    p.resolve({ approved: false, by: null, reason: 'expired' });
  }

  private remember(id: string, by: string | null, approved: boolean | null): void {
    this.decided.set(id, { by, approved });
    if (this.decided.size > this.maxRemembered) {
      const oldest = this.decided.keys().next().value;
      if (oldest !== undefined) this.decided.delete(oldest);
    }
  }
}
