/**
 * The approvals waiting for a person, for every surface that can decide them. Today they are
 * asked for in Slack (the gateway's ApprovalBroker: agent actions and `cancel`); this registry
 * lists that same broker's open approvals and decides them from the window, so an approval is
 * decided once wherever it is clicked first: a later Slack click is told who decided, the Slack
 * message's buttons are replaced by the outcome sentence (as a click there does), and the
 * window's decision is written to the audit log. Electron-free.
 */
import type { Core } from '../index.js';
import { RelayError, describeError } from '../errors.js';
import type { Logger } from '../ports.js';
import { systemClock } from '../ports.js';
import type { Clock } from '../ports.js';
import { APPROVAL_ID } from '../slack/approvals.js';
import type { ApprovalBroker, ApprovalMessage, PendingApprovalInfo } from '../slack/approvals.js';
import { slackHub } from '../slack/wiring.js';
import { AgentStore } from '../store/agent-store.js';
import type { AuditRow } from '../store/agent-store.js';

export type PendingApproval = PendingApprovalInfo;

/** Where the open approvals live: the running Slack gateway (null while none runs). */
export interface ApprovalSource {
  readonly approvals: ApprovalBroker;
  /** Replaces the approval's buttons in Slack with the outcome sentence (Slack mrkdwn). */
  showApprovalOutcome(message: ApprovalMessage, text: string): Promise<void>;
}

export interface WindowDecision {
  approved: boolean;
  /** The outcome as plain text ("Approved in the HPC Relay window by ada: cancel job 7. Job 7 is cancelled."). */
  text: string;
}

export interface PendingApprovalsDeps {
  source: () => ApprovalSource | null;
  /** Writes one row of the audit log (the agent store's). */
  audit: (row: AuditRow) => void;
  logger: Logger;
  clock?: Clock;
}

/** A name for who decided at the window: what Slack and the audit log are told. */
const MAX_NAME = 64;

/** Slack's three escapes, undone for the window and the audit log (they show text as text). */
const plain = (mrkdwn: string): string => mrkdwn.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export class PendingApprovals {
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: PendingApprovalsDeps) {
    this.log = deps.logger.child({ component: 'approvals' });
    this.clock = deps.clock ?? systemClock;
  }

  /** The approvals waiting for a decision, soonest to expire first. */
  list(): PendingApproval[] {
    return (this.deps.source()?.approvals.list() ?? []).sort((a, b) => a.expiresAt - b.expiresAt);
  }

  /**
   * Approves or denies approval `id` as `by` (the person at the window, by name). Refused with
   * APPROVAL_NOT_PENDING when no such approval waits: a malformed or unknown id, one decided
   * already (in Slack or here: the sentence says by whom), or one that expired.
   */
  async decide(id: string, approve: boolean, by: string): Promise<WindowDecision> {
    const name = by.trim();
    if (!name || name.length > MAX_NAME || [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
      throw new RelayError('USAGE', 'The approver’s name must be 1 to 64 characters without control characters.', { fix: 'Pass the name of the person deciding.' });
    }
    if (!APPROVAL_ID.test(id)) throw notPending('That is not an approval id.');
    const source = this.deps.source();
    if (!source) throw notPending('No approval is waiting: the Slack gateway, which asks for them, is not running.');
    const pending = source.approvals.list().find((p) => p.id === id);
    const d = await source.approvals.decide(id, approve, name, 'window');
    switch (d.kind) {
      case 'unknown':
        throw notPending('No approval with that id is waiting (the relay may have restarted since it was asked).');
      case 'expired':
        throw notPending('This approval expired; nothing was done.', 'Ask again (run the Slack command or the request once more).');
      case 'already': {
        const what = d.approved === null ? 'expired' : d.approved ? 'approved' : 'denied';
        const who = d.by ? (d.via === 'window' ? ` by ${d.by} in the HPC Relay window` : ` by Slack user ${d.by}`) : '';
        throw notPending(`This was already ${what}${who}; nothing was done again.`);
      }
      case 'done': {
        const text = plain(d.text);
        this.log.info('approval decided in the window', { approved: d.approved, by: name });
        this.deps.audit({
          at: this.clock.now(), conversationId: 'window', loopId: null, tool: 'approval',
          input: pending ? `${pending.summary}${pending.detail ? `\n${pending.detail}` : ''}` : id,
          output: text, decision: d.approved ? 'approved' : 'denied', approvedBy: `window:${name}`, isError: false,
        });
        if (d.message) {
          await source.showApprovalOutcome(d.message, d.text).catch((e: unknown) => this.log.warn('the Slack message of a window decision was not updated', { err: describeError(e) }));
        }
        return { approved: d.approved, text };
      }
    }
  }
}

function notPending(message: string, fix = 'Nothing to do: the list of pending approvals shows what still waits.'): RelayError {
  return new RelayError('APPROVAL_NOT_PENDING', message, { fix });
}

const registries = new WeakMap<Core, PendingApprovals>();

/** The core's pending approvals: those of whichever Slack gateway runs now, audited in the core's store. */
export function pendingApprovals(core: Core): PendingApprovals {
  let r = registries.get(core);
  if (!r) {
    r = new PendingApprovals({
      source: () => slackHub(core).gateway,
      audit: (row) => new AgentStore(core.db(), core.registry).audit(row),
      logger: core.logger,
    });
    registries.set(core, r);
  }
  return r;
}
