/**
 * The agent's ports to the rest of the app: who approves an action, where the agent posts when
 * nobody is waiting for an answer (job summaries, research-loop updates), and what the job service
 * tells it when a job ends. AgentServices (services.ts) is the port its tools act through.
 */

/** A conversation's place: a Slack channel and thread, or `cli` for `hpc-relay ask`. */
export interface ThreadRef {
  channelId: string;
  /** Slack thread timestamp; absent for a DM's top level (and the terminal). */
  threadTs?: string;
}

/** A file for a conversation's thread (the research loop's chart). */
export interface ThreadFile {
  /** e.g. `research-1a2b3c4d-val_acc.png`. */
  filename: string;
  title: string;
  /** What the image shows, for screen readers. */
  altText: string;
  bytes: Buffer;
}

/** Posts text into a conversation's thread (the Slack gateway's sender, the terminal, a test). */
export interface ThreadPoster {
  post(where: ThreadRef, text: string): Promise<void>;
  /** Uploads a file into the thread; absent where files cannot go (the terminal), and then nothing is rendered for it. */
  postFile?(where: ThreadRef, file: ThreadFile): Promise<void>;
}

export interface ApprovalAsk {
  /** One sentence: what will happen if approved ("Run `rm -rf ~/x` on the login node"). */
  summary: string;
  /** The exact action (a command line, a file's path and size). */
  detail: string;
  /** Why it needs approval (the guard's reason), shown with it. */
  reason: string;
  tool: string;
  conversationId: string;
}

export type ApprovalDecision =
  | { approved: true; by: string }
  | { approved: false; by: string | null; reason: 'denied' | 'expired' | 'stopped' | 'unavailable' };

/** Asks a person (an allowlisted Slack user, the terminal's user) to allow one action. */
export interface Approver {
  request(ask: ApprovalAsk): Promise<ApprovalDecision>;
}

/** An approver for when nobody can be asked (background work): every request is refused. */
export const NO_APPROVER: Approver = {
  request: async () => ({ approved: false, by: null, reason: 'unavailable' }),
};

/** What the job service reports when a job reaches a final state (`onJobFinished`). */
export interface FinishedJob {
  jobId: string;
  /** Final SLURM state: COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, … */
  state: string;
  name?: string;
  /** `exit:signal`, e.g. `0:0`. */
  exitCode?: string;
  elapsedSec?: number | null;
}

/** The llm.* settings the agent reads on every request (so a change applies without a restart). */
export interface AgentSettings {
  enabled: boolean;
  model: string;
  baseUrl?: string | undefined;
  maxTurns: number;
  monthlyBudgetUsd: number;
}
