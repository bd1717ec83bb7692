/**
 * What the Slack commands need from the rest of the core, as ports. The job service
 * (main/core/slurm), the cron service and the agent implement them; Slack never talks SSH itself.
 *
 * Every method may throw a `RelayError`: its sentence (and fix) is what the Slack user is shown.
 */

import type { JobStats, JobSummary as FullJobSummary, TailResult } from '../jobs/job-types.js';

export type { JobStats, TailResult };

/** One job, as `status` lists it: what Slack reads of the job service's summary. */
export type JobSummary = Pick<FullJobSummary, 'jobId' | 'name' | 'state' | 'elapsedSec' | 'partition' | 'where' | 'templateId' | 'best'>;

export interface SubmitResult {
  jobId: string;
  name?: string;
}

/** What `resubmit JOB mem=… time=… partition=… k=v…` may change; absent fields stay as they were. */
export interface ResubmitChanges {
  /** SLURM memory, e.g. `8G`, `16000M`. */
  mem?: string;
  /** SLURM time limit, e.g. `4:00:00`, `1-00:00:00`. */
  time?: string;
  partition?: string;
  /** Template parameters to override. */
  params?: Record<string, string>;
}

export interface JobsApi {
  /** The jobs the relay tracks (its own and adopted ones), newest first. */
  listJobs(): Promise<JobSummary[]>;
  /** The last `lines` lines of the job's output. */
  tail(jobId: string, lines: number): Promise<TailResult>;
  cancel(jobId: string): Promise<void>;
  /** `params` are raw text from the user; the job service validates them against the template. */
  submit(templateId: string, params: Record<string, string>): Promise<SubmitResult>;
  resubmit(jobId: string, changes: ResubmitChanges): Promise<SubmitResult>;
  stats(jobId: string): Promise<JobStats>;
  /**
   * Where the job's output goes: its submission's files, or for a job submitted elsewhere what the
   * scheduler said while it ran (kept, so it is known after the scheduler forgot the job).
   */
  outputPaths?(jobId: string): Promise<{ stdout: string; stderr: string }>;
}

export interface CronMonitorSummary {
  id: string;
  name: string;
  /** The schedule as the user wrote it ("every 5m", "0 9 * * 1-5"). */
  schedule: string;
  paused: boolean;
  /** Epoch ms of the next planned run; null when paused or finished. */
  nextRunAt: number | null;
  /** "ok", "failed: …", "skipped: …", or null before the first run. */
  lastOutcome: string | null;
}

export interface CronApi {
  list(): Promise<CronMonitorSummary[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
}

export interface UsageSummary {
  /** Estimated spend this calendar month, US dollars. */
  monthUsd: number;
  /** llm.monthlyBudgetUsd. */
  budgetUsd: number;
  inputTokens: number;
  outputTokens: number;
  conversations: number;
}

export interface UsageApi {
  usage(): Promise<UsageSummary>;
}

/** Free-form text handed to the LLM agent (main/core/agent) when one is configured. */
export interface AgentRequest {
  text: string;
  userId: string;
  channelId: string;
  /** The thread the conversation lives in (a DM's top-level messages have none). */
  threadTs?: string;
  /** The job whose report thread this is, when it is one. */
  jobId?: string;
}

export interface ApprovalRequest {
  /** One sentence: what will happen if approved ("Cancel job 1234 (train_cnn)"). */
  summary: string;
  /** Optional detail shown under it (a command line, a diff). */
  detail?: string;
  /** How long the buttons stay valid (default 30 minutes). */
  ttlMs?: number;
}

export type ApprovalOutcome =
  | { approved: true; by: string }
  | { approved: false; by: string | null; reason: 'denied' | 'expired' | 'stopped' };

/** What an agent handler may do in the conversation it was handed. */
export interface AgentIo {
  /** Posts in the conversation (redacted, queued, rate-limit safe). */
  say(text: string): Promise<void>;
  /** Posts approve/deny buttons; resolves when an allowlisted user decides, or it expires. */
  requestApproval(req: ApprovalRequest): Promise<ApprovalOutcome>;
}

export interface AgentHandler {
  handle(req: AgentRequest, io: AgentIo): Promise<void>;
}

/** The ports the Slack command layer can use; absent ones make their commands say so. */
export interface SlackPorts {
  jobs?: JobsApi;
  cron?: CronApi;
  usage?: UsageApi;
  agent?: AgentHandler;
}
