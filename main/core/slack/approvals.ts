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

/** Where an approval's buttons were posted, so a decision made elsewhere (the window) can replace them. */
export type ApprovalMessage = { channel: string; ts: string } | { responseUrl: string };

/** Who decided: a Slack user (by member ID) or the person at the HPC Relay window (by name). */
export type ApprovalVia = 'slack' | 'window';

/** An approval still waiting for a decision, as the window lists it (untrusted text: shown as text). */
export interface PendingApprovalInfo {
  id: string;
  summary: string;
  detail: string | null;
  /** The Slack member ID of whoever asked (the agent acts for them). */
  requestedBy: string;
  /** Epoch ms after which a decision is refused. */
  expiresAt: number;
}

export interface OpenApproval extends ApprovalRequest {
  requestedBy: string;
  /** Runs once when approved; its sentence replaces the buttons. */
  onApprove?: (by: string) => Promise<string>;
}

export type Decision =
  /** `message`: where the buttons are, when known (a decision from the window replaces them there). */
  | { kind: 'done'; approved: boolean; text: string; message?: ApprovalMessage }
  | { kind: 'unknown' }
  /** `via: 'window'` when it was decided at the window (`by` is then a name, not a Slack member ID). */
  | { kind: 'already'; by: string | null; approved: boolean | null; via?: 'window' }
  | { kind: 'expired' };

/** The `by` an approval's outcome carries for a decision at the window: never a Slack member ID (no colon in those). */
export const windowDecider = (name: string): string => `window:${name}`;

/** Who decided, as Slack text: a mention for a Slack user, the name for the window. */
export function deciderText(by: string, via: ApprovalVia | undefined): string {
  return via === 'window' ? `${escapeText(by)} in the HPC Relay window` : `<@${by}>`;
}

/** The approval ids whose buttons are in these blocks (`approval:<id>` action blocks). */
export function approvalIdsIn(blocks: readonly Block[] | undefined): string[] {
  const ids: string[] = [];
  for (const b of blocks ?? []) {
    const blockId = (b as { block_id?: unknown }).block_id;
    if (typeof blockId === 'string' && blockId.startsWith('approval:')) ids.push(blockId.slice('approval:'.length));
  }
  return ids;
}

interface Pending {
  id: string;
  req: OpenApproval;
  expiresAt: number;
  resolve: (o: ApprovalOutcome) => void;
  timer: { cancel(): void };
  message?: ApprovalMessage;
}

/** The shape of an approval id (16 random bytes, base64url). */
export const APPROVAL_ID = /^[A-Za-z0-9_-]{22}$/;
const ID = APPROVAL_ID;

export class ApprovalBroker {
  private readonly pending = new Map<string, Pending>();
  /** Decided ids, remembered so a replay is named as one (bounded). */
  private readonly decided = new Map<string, { by: string | null; approved: boolean | null; via?: 'window' }>();
  /** Outcomes decided at the window before their Slack post was placed (see placed()); bounded. */
  private readonly unplaced = new Map<string, string>();

  /** Told whenever the open approvals change (see onChange). */
  private readonly watchers = new Set<() => void>();

  constructor(private readonly clock: Clock = systemClock, private readonly maxRemembered = 5000) {}

  /** Calls `listener` whenever the open approvals change: one opened, decided, expired or closed. Returns how to stop. */
  onChange(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => {
      this.watchers.delete(listener);
    };
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) {
      try {
        watcher();
      } catch {
        // A watcher's bug must not stop an approval.
      }
    }
  }

  /** Registers an approval; post `blocks` where the approvers see them. */
  open(req: OpenApproval): { id: string; text: string; blocks: Block[]; outcome: Promise<ApprovalOutcome> } {
    const id = randomBytes(16).toString('base64url');
    const ttl = req.ttlMs ?? DEFAULT_APPROVAL_TTL_MS;
    let resolve!: (o: ApprovalOutcome) => void;
    const outcome = new Promise<ApprovalOutcome>((r) => { resolve = r; });
    const timer = this.clock.setTimeout(() => this.expire(id), ttl);
    this.pending.set(id, { id, req, expiresAt: this.clock.now() + ttl, resolve, timer });
    this.changed();
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

  /** The approvals waiting for a decision, oldest first (expired ones are not listed). */
  list(): PendingApprovalInfo[] {
    const now = this.clock.now();
    return [...this.pending.values()]
      .filter((p) => p.expiresAt > now)
      .map((p) => ({ id: p.id, summary: p.req.summary, detail: p.req.detail ?? null, requestedBy: p.req.requestedBy, expiresAt: p.expiresAt }));
  }

  /**
   * The buttons of approval `id` were posted there (a message, or a response_url that can replace
   * it). When the window decided it while the post was still on its way, the outcome sentence is
   * returned: the caller puts it in place of the buttons it just posted.
   */
  placed(id: string, message: ApprovalMessage): string | undefined {
    const p = this.pending.get(id);
    if (p) {
      p.message ??= message;
      return undefined;
    }
    const text = this.unplaced.get(id);
    this.unplaced.delete(id);
    return text;
  }

  /**
   * Approve or deny approval `id`: an allowlisted Slack user's click (`userId` is their member ID),
   * or the person at the window (`via: 'window'`, `userId` is their name). Decided once, whichever
   * comes first; the other is told who decided.
   */
  async decide(id: string, approve: boolean, userId: string, via: ApprovalVia = 'slack'): Promise<Decision> {
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
    this.remember(id, userId, approve, via);
    this.changed();
    const by = via === 'window' ? windowDecider(userId) : userId;
    const who = via === 'window' ? `in the HPC Relay window by ${escapeText(userId)}` : `by <@${userId}>`;
    const where = p.message ? { message: p.message } : {};
    const done = (d: Extract<Decision, { kind: 'done' }>): Decision => {
      if (!p.message && via === 'window') {
        this.unplaced.set(id, d.text);
        if (this.unplaced.size > 100) this.unplaced.delete(this.unplaced.keys().next().value ?? '');
      }
      return d;
    };
    if (!approve) {
      p.resolve({ approved: false, by, reason: 'denied' });
      return done({ kind: 'done', approved: false, text: `Denied ${who}: ${escapeText(p.req.summary)}.`, ...where });
    }
    p.resolve({ approved: true, by });
    let result = '';
    if (p.req.onApprove) {
      try {
        result = await p.req.onApprove(by);
      } catch (e) {
        result = `It failed: ${escapeText(e instanceof Error ? e.message : String(e))}`;
      }
    }
    return done({ kind: 'done', approved: true, text: `Approved ${who}: ${escapeText(p.req.summary)}.${result ? ` ${result}` : ''}`, ...where });
  }

  /** Resolves every open approval as not approved (shutdown). */
  closeAll(): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.resolve({ approved: false, by: null, reason: 'stopped' });
    }
    const had = this.pending.size > 0;
    this.pending.clear();
    if (had) this.changed();
  }

  private expire(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.timer.cancel();
    this.remember(id, null, null);
    p.resolve({ approved: false, by: null, reason: 'expired' });
    this.changed();
  }

  private remember(id: string, by: string | null, approved: boolean | null, via: ApprovalVia = 'slack'): void {
    this.decided.set(id, { by, approved, ...(via === 'window' ? { via } : {}) });
    if (this.decided.size > this.maxRemembered) {
      const oldest = this.decided.keys().next().value;
      if (oldest !== undefined) this.decided.delete(oldest);
    }
  }
}
