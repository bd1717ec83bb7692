import { formatDuration, formatMemory } from './slurm-values.js';

/**
 * Failure triage, as the sweep monitor in the research guide does it, as pure functions:
 * classify how a job ended (sacct's state + the tail of its output), then decide what to do
 * given triage.mode and what has already been done in the job's sweep.
 */
export type FailureClass = 'completed' | 'cancelled' | 'host-oom' | 'cuda-oom' | 'timeout' | 'infrastructure' | 'exception' | 'failed';

export interface Classification {
  failureClass: FailureClass;
  /** For `exception`: `Type: message` with numbers and addresses masked, to spot the same bug twice. */
  signature: string | null;
}

export interface ClassifyInput {
  state: string;
  exitCode: number | null;
  signal: number | null;
  /** The tail of the job's stdout and stderr (slurmstepd writes its OOM notes there). */
  logText: string;
}

const CUDA_OOM = /CUDA out of memory|torch\.cuda\.OutOfMemoryError|CUDA error: out of memory|CUDA_ERROR_OUT_OF_MEMORY/;
/** OverMemoryKill (jobacct_gather) and cgroup OOM notes from slurmstepd, and the kernel's. */
const HOST_OOM = /Exceeded job memory limit|exceeded memory limit \(\d+ > \d+\)|oom[-_ ]kill|Out Of Memory|OOM Killed/i;
const INFRASTRUCTURE = new Set(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']);

/** The last Python exception (or C++ terminate) in a log, masked so two runs of one bug compare equal. */
export function exceptionSignature(logText: string): string | null {
  const lines = logText.split('\n').map((l) => l.trimEnd());
  let found: string | null = null;
  let inTraceback = false;
  for (const line of lines) {
    if (/^Traceback \(most recent call last\):/.test(line)) { inTraceback = true; continue; }
    const cxx = /terminate called after throwing an instance of '([^']+)'/.exec(line);
    if (cxx?.[1]) { found = cxx[1]; continue; }
    if (!inTraceback || /^\s/.test(line) || line === '') continue;
    const m = /^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)|[A-Za-z_][\w.]*\.[A-Z]\w*)(?::\s*(.*))?$/.exec(line);
    if (m?.[1]) {
      found = m[2] ? `${m[1]}: ${m[2]}` : m[1];
      inTraceback = false;
    }
  }
  if (found === null) return null;
  return found.replace(/0x[0-9a-f]+/gi, '0x#').replace(/\d+(\.\d+)?/g, '#').slice(0, 300);
}

export function classify(input: ClassifyInput): Classification {
  const { state, logText } = input;
  if (state === 'COMPLETED') return { failureClass: 'completed', signature: null };
  if (CUDA_OOM.test(logText)) return { failureClass: 'cuda-oom', signature: null };
  if (state === 'OUT_OF_MEMORY' || (state !== 'TIMEOUT' && HOST_OOM.test(logText))) return { failureClass: 'host-oom', signature: null };
  if (state === 'TIMEOUT' || state === 'DEADLINE') return { failureClass: 'timeout', signature: null };
  if (INFRASTRUCTURE.has(state)) return { failureClass: 'infrastructure', signature: null };
  if (state === 'CANCELLED') return { failureClass: 'cancelled', signature: null };
  const signature = exceptionSignature(logText);
  if (signature) return { failureClass: 'exception', signature };
  return { failureClass: 'failed', signature: null };
}

export type TriageMode = 'notify' | 'remediate';
export type TriageAction = 'none' | 'notify' | 'bump-mem' | 'bump-time' | 'resubmit' | 'halt';

export interface SweepState {
  halted: boolean;
  /** Failure classes that already had their one automatic action in this sweep. */
  actedOn: ReadonlySet<FailureClass>;
  /** Ended jobs of the sweep (this one included) whose exception has this job's signature. */
  sameSignatureFailures: number;
}

export interface JobResources {
  reqMemBytes: number | null;
  timeLimitSec: number | null;
}

export interface TriageDecision {
  action: TriageAction;
  failureClass: FailureClass;
  /** One sentence for the notification: what happened and what HPC Relay did about it. */
  reason: string;
  /** For bumps: the sbatch option values of the resubmit. */
  changes?: { mem?: string; time?: string };
}

/** An automatic bump is +50%, rounded up to whole megabytes / minutes. */
export function bumpMemory(bytes: number): string {
  return formatMemory(bytes * 1.5);
}

export function bumpTime(seconds: number): string {
  return formatDuration(Math.ceil((seconds * 1.5) / 60) * 60);
}

export function decide(c: Classification, mode: TriageMode, sweep: SweepState, res: JobResources): TriageDecision {
  const fc = c.failureClass;
  const notify = (reason: string): TriageDecision => ({ action: 'notify', failureClass: fc, reason });
  if (fc === 'completed') return { action: 'none', failureClass: fc, reason: 'It completed.' };
  if (fc === 'cancelled') return { action: 'none', failureClass: fc, reason: 'It was cancelled.' };
  if (fc === 'exception' && sweep.sameSignatureFailures >= 2) {
    return { action: 'halt', failureClass: fc, reason: `The same exception ended ${sweep.sameSignatureFailures} jobs of this sweep (${c.signature ?? 'unknown'}): likely a bug in the code, so automatic actions stop for this sweep.` };
  }
  if (sweep.halted) return notify('This sweep was halted, so HPC Relay takes no automatic action.');
  const once = (what: string): string | null => {
    if (mode !== 'remediate') return `triage.mode is notify, so HPC Relay did not ${what} (set triage.mode to remediate to allow it).`;
    if (sweep.actedOn.has(fc)) return `HPC Relay already acted once on this kind of failure in this sweep, so it did not ${what} again.`;
    return null;
  };
  switch (fc) {
    case 'cuda-oom':
      return notify('The GPU ran out of memory (CUDA out of memory): more host memory does not help, so nothing was resubmitted; lower the batch size or use a larger GPU.');
    case 'host-oom': {
      if (res.reqMemBytes === null) return notify('It ran out of memory, and how much it had asked for is unknown, so nothing was resubmitted.');
      const mem = bumpMemory(res.reqMemBytes);
      const why = once(`resubmit it with --mem=${mem}`);
      return why ? notify(`It ran out of memory; ${why}`) : { action: 'bump-mem', failureClass: fc, reason: `It ran out of memory: resubmitted with --mem=${mem} (+50%).`, changes: { mem } };
    }
    case 'timeout': {
      if (res.timeLimitSec === null) return notify('It hit its time limit, and the limit is unknown, so nothing was resubmitted.');
      const time = bumpTime(res.timeLimitSec);
      const why = once(`resubmit it with --time=${time}`);
      return why ? notify(`It hit its time limit; ${why}`) : { action: 'bump-time', failureClass: fc, reason: `It hit its time limit: resubmitted with --time=${time} (+50%).`, changes: { time } };
    }
    case 'infrastructure': {
      const why = once('resubmit it unchanged');
      return why ? notify(`The cluster failed it (node failure or preemption); ${why}`) : { action: 'resubmit', failureClass: fc, reason: 'The cluster failed it (node failure or preemption): resubmitted unchanged.' };
    }
    case 'exception':
      return notify(`It failed with ${c.signature ?? 'an exception'}.`);
    default:
      return notify('It failed.');
  }
}
