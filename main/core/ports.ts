/**
 * What the core needs from the outside world. The Electron shell and the CLI each provide
 * their own implementations; tests pass real ones where they can run here and fakes for
 * the clock and the OS.
 */

/** Secrets live in the OS keychain (keytar) or, on servers, in environment variables. */
export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** Settings storage: electron-store in the app, conf (the same JSON file format) in the CLI. */
export interface ConfigStore {
  /** The whole raw settings object as stored (not yet validated). */
  read(): Record<string, unknown>;
  write(data: Record<string, unknown>): void;
  /** Moves an unreadable settings file aside (kept, never deleted); returns where it went. */
  moveAside(): string;
  /** Where the settings live, for messages and the doctor. */
  readonly path: string;
}

export interface Notification {
  id: string;
  title: string;
  body: string;
  /** Where a click should lead, for example `job:1234`. */
  target?: string;
  /** How the job ended, when this is a job's end: the tray's "a job failed" state and its badge count it. */
  outcome?: 'succeeded' | 'failed';
}

export interface Notifier {
  notify(n: Notification): Promise<void>;
}

/**
 * How a connection the core keeps is doing, for the tray, the window and the doctor.
 * `off`: not configured or not enabled; `attention`: a person must act (a prompt is waiting,
 * a host key changed, credentials were refused) before it can connect.
 */
export type LinkState = 'off' | 'connecting' | 'connected' | 'disconnected' | 'attention';

export interface LinkStatus {
  state: LinkState;
  /** One sentence for a tooltip or the window (the reason, the prompt's title); never a secret. */
  detail?: string;
}

export interface RunningJob {
  id: string;
  name: string;
  /** SLURM's state name: PENDING, RUNNING, … */
  state: string;
}

/** What the core's long-running parts report about themselves; each part publishes its own field. */
export interface StatusSnapshot {
  ssh: LinkStatus;
  slack: LinkStatus;
  model: LinkStatus;
  /** Null until a job service publishes; then the user's unfinished jobs. */
  jobs: { running: RunningJob[] } | null;
}

export interface StatusBoard {
  snapshot(): StatusSnapshot;
  /** Replaces the given fields; listeners hear about it only when something changed. */
  publish(part: Partial<StatusSnapshot>): void;
  /** Returns a function that unsubscribes. */
  subscribe(listener: (snapshot: StatusSnapshot) => void): () => void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

/** Questions the core must ask a person: 2FA codes, passphrases, unknown host keys. */
export interface PromptRequest {
  kind: 'secret' | 'text' | 'confirm';
  title: string;
  message: string;
  /**
   * Aborted when the asker stops waiting (the question timed out, the login was abandoned or the
   * connection failed): the prompt should close at once, and may resolve null.
   */
  signal?: AbortSignal;
}

export interface PromptUser {
  /** Resolves to the answer, or null when the user cancels. For `confirm`, any non-null answer means yes. */
  ask(req: PromptRequest): Promise<string | null>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};
