/**
 * Every error a user can see carries a stable code and one human sentence that says what to do.
 * The doctor panel, the CLI and Slack map codes to fixes; stacks are only shown with --verbose.
 */
export type ErrorCode =
  | 'CONFIG_UNKNOWN_KEY'
  | 'CONFIG_INVALID_VALUE'
  | 'CONFIG_CORRUPT'
  | 'CONFIG_WRITE_FAILED'
  | 'SECRET_UNKNOWN_NAME'
  | 'SECRET_INVALID_FORMAT'
  | 'SECRET_EMPTY'
  | 'KEYCHAIN_UNAVAILABLE'
  | 'SSH_NOT_CONFIGURED'
  | 'SSH_DNS'
  | 'SSH_UNREACHABLE'
  | 'SSH_AUTH_FAILED'
  | 'SSH_HOSTKEY_UNKNOWN'
  | 'SSH_HOSTKEY_CHANGED'
  | 'SSH_TIMEOUT'
  | 'SSH_DISCONNECTED'
  | 'SSH_CHANNEL_FAILED'
  | 'SSH_2FA_TIMEOUT'
  | 'SSH_COMMAND_INTERRUPTED'
  | 'REMOTE_DIR_NOT_WRITABLE'
  | 'REMOTE_FILE_NOT_FOUND'
  | 'REMOTE_FILE_FAILED'
  | 'REMOTE_COMMAND_FAILED'
  | 'SLURM_PARSE'
  | 'JOB_NOT_FOUND'
  | 'JOB_SCRIPT_INVALID'
  | 'JOB_SUBMIT_FAILED'
  | 'JOB_ACTION_REFUSED'
  /** A job submitted outside HPC Relay whose output file the scheduler no longer names. */
  | 'JOB_OUTPUT_UNKNOWN'
  | 'STORE_FAILED'
  /** A monitor schedule that is neither a shorthand we know nor a valid cron expression. */
  | 'CRON_INVALID_SCHEDULE'
  /** A monitor delivery target other than slack, dm:U…, tray or file:PATH. */
  | 'CRON_INVALID_TARGET'
  /** Another monitor option is wrong (timezone, repeat count, grace, prompt for the kind). */
  | 'CRON_INVALID_OPTION'
  /** No monitor has that ID. */
  | 'CRON_NOT_FOUND'
  /** The monitor has used up its repeat count. */
  | 'CRON_FINISHED'
  /** The target exists but cannot be reached from this process (no home channel, no Slack, no tray). */
  | 'CRON_TARGET_UNAVAILABLE'
  /** Writing a monitor's output to its file failed. */
  | 'CRON_DELIVERY_FAILED'
  /** A prompt monitor ran but no agent is enabled to run prompts. */
  | 'AGENT_NOT_ENABLED'
  | 'USAGE'
  /** Slack is enabled but a token is missing. */
  | 'SLACK_NOT_CONFIGURED'
  /** auth.test refused the bot token (xoxb-). */
  | 'SLACK_BOT_TOKEN_REFUSED'
  /** apps.connections.open refused the app-level token (xapp-), or it lacks connections:write. */
  | 'SLACK_APP_TOKEN_REFUSED'
  /** Slack could not be reached or answered with something other than a Slack answer. */
  | 'SLACK_UNREACHABLE'
  /** The bot token lacks a scope a method needs (Slack's `missing_scope` / `needed`). */
  | 'SLACK_MISSING_SCOPE'
  /** The bot was asked to post in a channel it is not a member of. */
  | 'SLACK_NOT_IN_CHANNEL'
  /** slack.homeChannel (or another target) names no channel Slack knows. */
  | 'SLACK_CHANNEL_NOT_FOUND'
  /** Slack refused a message for another reason (invalid blocks, too long, …). */
  | 'SLACK_POST_FAILED'
  /** The gateway stopped before an outgoing message could be delivered. */
  | 'SLACK_STOPPED'
  /** Socket Mode connects, but events the bot should receive never arrive. */
  | 'SLACK_EVENTS_NOT_SUBSCRIBED'
  /** A job report has nowhere to go: no slack.homeChannel and no allowed user to DM. */
  | 'SLACK_NO_REPORT_TARGET'
  /** The job has no Slack report thread (no report of it was posted). */
  | 'SLACK_NO_THREAD'
  /** No approval with that id waits for a decision (unknown, already decided, or expired). */
  | 'APPROVAL_NOT_PENDING'
  /** A link the app was asked to open is not one it opens (not https, not on the expected host). */
  | 'EXTERNAL_URL_REFUSED'
  /** The agent's monthly budget (llm.monthlyBudgetUsd) is spent, or this call would pass it. */
  | 'AGENT_BUDGET_EXHAUSTED'
  /** The model API kept failing (429, 5xx, unreachable) after the agent's retries. */
  | 'AGENT_MODEL_UNAVAILABLE'
  /** The model API refused the request for good (bad key, unknown model, invalid request). */
  | 'AGENT_MODEL_REFUSED'
  /** A research goal the agent cannot read, or one it cannot run (unknown template or metric). */
  | 'AGENT_GOAL_INVALID';

export class RelayError extends Error {
  readonly code: ErrorCode;
  /** What the user should do about it; part of the message too, kept apart for the doctor and UI. */
  readonly fix: string | undefined;

  constructor(code: ErrorCode, message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(options.fix ? `${message} ${options.fix}` : message, { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    this.fix = options.fix;
  }
}

export function isRelayError(e: unknown, code?: ErrorCode): e is RelayError {
  return e instanceof RelayError && (code === undefined || e.code === code);
}

/** What is wrong with the store, and what the user does about it: SQLite's file and disk failures only. */
export interface StoreProblem {
  /** e.g. "the disk is full". */
  reason: string;
  /** e.g. "Free some space on the disk that holds HPC Relay's settings directory". */
  remedy: string;
}

/**
 * SQLite's failures that are about the store's file or its disk rather than a statement (disk
 * full, I/O error, read-only, damaged file); also found as the cause of a STORE_FAILED. Null otherwise.
 */
export function storeProblem(e: unknown): StoreProblem | null {
  if (isRelayError(e, 'STORE_FAILED')) return storeProblem(e.cause);
  if (e instanceof RelayError || !(e instanceof Error)) return null;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  const dir = "the disk that holds HPC Relay's settings directory";
  if (code === 'SQLITE_FULL') return { reason: 'the disk is full', remedy: `Free some space on ${dir}` };
  if (code.startsWith('SQLITE_IOERR')) return { reason: 'the disk reported an I/O error', remedy: `Check that ${dir} is present, writable and not full (free some space if it is)` };
  if (code.startsWith('SQLITE_READONLY')) return { reason: 'the database is read-only', remedy: 'Make the settings directory and hpc-relay.db writable by your user' };
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return { reason: 'the database file is damaged', remedy: 'Move hpc-relay.db aside (HPC Relay starts a new, empty one) and run `hpc-relay doctor`' };
  return null;
}

/** A SQLite failure of the store's file or disk (see storeProblem) as STORE_FAILED with the fix; null for anything else. */
export function storeFailure(e: unknown): RelayError | null {
  if (e instanceof RelayError) return null;
  const p = storeProblem(e);
  if (!p) return null;
  return new RelayError('STORE_FAILED', `HPC Relay could not save to its database (hpc-relay.db): ${p.reason}.`, { fix: `${p.remedy}, then try again; what it saved before is intact.`, cause: e });
}

/** The message of anything thrown, without a stack: what a user is shown by default. */
export function describeError(e: unknown): string {
  const store = storeFailure(e);
  if (store) return store.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
