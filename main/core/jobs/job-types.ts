/** What the job service answers for `tail` and `stats`: shared by the service and the ports that expose it (Slack, the window). */

export interface TailResult {
  jobId: string;
  /** The last lines of the job's output, oldest first, without line terminators. */
  lines: string[];
  /** The file they came from, for the heading. */
  path?: string;
  /** True when the output was cut (the caller asked for fewer lines than exist, or a byte cap hit). */
  truncated: boolean;
}

export interface JobStats {
  jobId: string;
  name: string;
  state: string;
  /** SLURM's `exit:signal`, e.g. `0:0`, `3:0`; null while running. */
  exitCode: string | null;
  elapsedSec: number | null;
  timeLimitSec: number | null;
  /** Peak resident memory over the job's steps; null when accounting has none yet. */
  maxRssBytes: number | null;
  /** Memory the job asked for (for the whole job). */
  reqMemBytes: number | null;
  nodeList?: string;
}
