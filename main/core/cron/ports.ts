/**
 * What cron monitors need from the rest of the core. Each is small so the Slack gateway, the job
 * service and the agent can implement it later; until then the factory passes what exists and the
 * missing ones make their monitors fail with a sentence that says so.
 */

/** Posts one message to Slack. Implementations throw RelayErrors: SLACK_UNREACHABLE when the network is down (the monitor retries), other SLACK_* codes otherwise. */
export interface SlackPoster {
  /** Exactly one of `channel` (an ID such as C012ABCDEF or #name) and `user` (a user ID: a DM). */
  post(msg: { channel?: string; user?: string; text: string }): Promise<void>;
}

export interface DigestMetrics {
  epoch: number;
  totalEpochs?: number;
  /** The latest values by name: {val_acc: 0.82, loss: 0.41}. */
  values: Record<string, number>;
}

export interface DigestJob {
  jobId: string;
  name: string;
  /** SLURM state, upper case: RUNNING, PENDING, … */
  state: string;
  /** Seconds since the job started (0 while pending). */
  elapsedSeconds: number;
  partition: string;
  latestMetrics?: DigestMetrics;
  /** Mean seconds per epoch, when known; otherwise the digest estimates it from elapsed / epoch. */
  epochSeconds?: number;
  /** 1 = next to start in its partition; pending jobs only. */
  queuePosition?: number;
}

/** The jobs a digest reports on: the user's running and pending jobs. */
export interface DigestSource {
  listJobs(): Promise<DigestJob[]>;
}

export interface AgentRunRequest {
  prompt: string;
  monitorId: string;
  monitorName: string;
}

export interface AgentRunResult {
  /** What to deliver. */
  text: string;
  /** What the run actually cost, when the agent knows. */
  costUsd?: number;
}

/** Runs one agent prompt to completion (the agent engineer provides it; absent → AGENT_NOT_ENABLED). */
export interface AgentRunner {
  run(req: AgentRunRequest): Promise<AgentRunResult>;
}
