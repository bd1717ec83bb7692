/** What the job service answers for lists, `tail` and `stats`: shared by the service and the ports that expose it (Slack, the window, the CLI's --json). */

/** The best value so far of a job's key metric (val_acc, else a loss; see keyMetric). */
export interface BestMetric {
  series: string;
  value: number;
  step: number;
}

/** One job as lists show it. `state` uses SLURM's state names (PENDING, RUNNING, COMPLETED, …). */
export interface JobSummary {
  /** SLURM job id; array tasks as `12345_7`. */
  jobId: string;
  name: string;
  state: string;
  /** Seconds it has run (so far, or in total once ended); null when unknown (pending). */
  elapsedSec: number | null;
  partition?: string;
  /** Where it runs (node list) or why it waits (squeue's reason), as SLURM says it. */
  where?: string;
  /** The template it came from, when the relay submitted it. */
  templateId?: string;
  /** SLURM's `exit:signal`; null while running. */
  exitCode: string | null;
  /** Found on the scheduler, not submitted by HPC Relay. */
  adopted: boolean;
  final: boolean;
  /** The best value so far of its key metric, when its metrics have one. */
  best?: BestMetric;
}

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
