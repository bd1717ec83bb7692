/**
 * What the agent's tools may do, as one port. Each method is one tool's capability and nothing
 * more; the tools (tools.ts) validate the model's input, ask the approval guard, and only then
 * call here. The production adapter is cluster-services.ts (templates + ClusterService, or the
 * job service when the composition root has one); tests may pass their own.
 *
 * Every method may throw (a RelayError's sentence is what the model is shown as the tool error).
 */

export type ParamValue = string | number | boolean;

export interface TemplateParamInfo {
  name: string;
  type: string;
  help: string;
  default?: ParamValue;
  min?: number;
  max?: number;
  choices?: string[];
  /** Folded away in forms (interpreter paths, modules, seeds). */
  advanced?: boolean;
  /** True when the value becomes an sbatch option (resources), not a script argument. */
  resource?: boolean;
}

export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
  params: TemplateParamInfo[];
}

export interface SubmittedJob {
  jobId: string;
  templateId: string;
  /** The validated values the job was submitted with. */
  params: Record<string, ParamValue>;
  /** The remote directory the script ran in, when known. */
  workDir?: string;
}

export interface JobStatusInfo {
  jobId: string;
  name: string;
  /** SLURM state name: PENDING, RUNNING, COMPLETED, FAILED, … */
  state: string;
  elapsedSec: number | null;
  /** `exit:signal` once ended. */
  exitCode?: string;
  partition?: string;
  /** Node list while running, or why it waits. */
  where?: string;
}

export interface LogTail {
  jobId: string;
  path: string;
  /** The last bytes of the file, decoded as UTF-8. */
  text: string;
  /** True when the file is longer than what was returned. */
  truncated: boolean;
}

export interface MetricSeriesPoint {
  step: number;
  value: number | null;
}

export interface JobMetrics {
  jobId: string;
  /** Where they were read from. */
  dir: string;
  /** metrics.csv (or the log's key=value lines), by series name: [{step, value}]. */
  series: Record<string, MetricSeriesPoint[]>;
  /** summary.json's numbers, flattened (`final.val_acc`). */
  summary: Record<string, number | null>;
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface MonitorRequest {
  /** "every 5m", "0 9 * * 1-5", … */
  schedule: string;
  /** `digest`: a deterministic job digest (no model); `prompt`: an agent prompt (costs a model run each time). */
  kind: 'digest' | 'prompt';
  prompt?: string;
  /** Where it posts: slack (home channel), dm:U…, tray, file:PATH. */
  target?: string;
  name?: string;
}

export interface AgentServices {
  listTemplates(): Promise<TemplateInfo[]>;
  /** Values are validated against the template by the implementation (a TemplateError says why not). */
  submitJob(templateId: string, params: Record<string, ParamValue>): Promise<SubmittedJob>;
  /** The given jobs (or, with none, the user's unfinished ones): squeue for live jobs, sacct for ended ones. */
  jobStatus(jobIds: readonly string[]): Promise<JobStatusInfo[]>;
  /** The last `bytes` bytes of the job's output (stdout) or error (stderr) file. */
  tailLog(jobId: string, opts: { bytes: number; stream: 'stdout' | 'stderr' }): Promise<LogTail>;
  readMetrics(jobId: string): Promise<JobMetrics>;
  cancelJob(jobId: string): Promise<void>;
  /** The same template and values as `jobId`, with `changes` applied. */
  resubmitJob(jobId: string, changes: Record<string, ParamValue>): Promise<SubmittedJob>;
  /** One program as an argv array (never a shell line), on the login node. */
  runRemoteCommand(argv: readonly string[], opts: { timeoutMs: number }): Promise<CommandResult>;
  writeRemoteFile(path: string, content: string): Promise<{ path: string; bytes: number }>;
  scheduleMonitor(req: MonitorRequest): Promise<{ id: string; description: string }>;
}
