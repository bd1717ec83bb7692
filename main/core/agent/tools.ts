import { z } from 'zod';
import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import { commandLine } from '../cluster/shell-quote.js';
import { describeError } from '../errors.js';
import type { SecretRegistry } from '../secrets/redact.js';
import type { AuditDecision } from '../store/agent-store.js';
import { classifyCommand } from './guard.js';
import type { Approver } from './ports.js';
import type { AgentServices, ParamValue, SubmittedJob } from './services.js';
import { clip, wrapUntrusted } from './untrusted.js';

/**
 * The agent's tools: each has a zod schema (the model's input is validated before anything runs;
 * a bad input comes back as a tool error the model can read and correct), a gate (the approval
 * guard, in code) and a run function over AgentServices.
 *
 * The gate's policy:
 * - reading (list_templates, job_status, tail_log, read_metrics, and run_remote_command with a
 *   command the read-only list accepts) runs at once;
 * - cancel_job, resubmit_job, write_remote_file, schedule_monitor and any other remote command
 *   always wait for a person's approval;
 * - submit_job runs at once only while the model's context holds nothing but the user's own words
 *   (no cluster output has entered the conversation: it is "untainted") and only a few times per
 *   request: that is the job the user asked for in this message. A submit the model proposes after
 *   reading logs, files or command output could have been put there by that output, so it waits
 *   for approval like any other change.
 */

const JOB_ID = z.string().regex(/^\d{1,12}(?:_\d{1,7})?$/, 'a SLURM job id such as 1234 or 1234_5');
const PARAM_VALUE = z.union([z.string().max(4096), z.number(), z.boolean()]);

/** Submits without approval allowed in one request (an untainted context); more need approval. */
export const AUTO_SUBMITS_PER_REQUEST = 4;

export interface ToolContext {
  conversationId: string;
  loopId: string | null;
  /** Untrusted tool output was in the model's context when it asked for this call. */
  tainted: boolean;
  /** Submits still allowed without approval in this request. */
  autoSubmitsLeft: number;
  approver: Approver;
  services: AgentServices;
  registry: SecretRegistry;
}

export interface ToolOutcome {
  /** What the model gets back (already wrapped as untrusted data where it came from the cluster). */
  content: string;
  isError: boolean;
  /** The content carries cluster output (the conversation becomes tainted). */
  untrusted: boolean;
  decision: AuditDecision;
  approvedBy: string | null;
  /** For the audit log: the result as text, before wrapping. */
  auditOutput: string;
  submitted?: SubmittedJob;
}

type Gate = { kind: 'auto' } | { kind: 'approve'; summary: string; detail: string; reason: string };

interface RunResult {
  text: string;
  untrusted: boolean;
  submitted?: SubmittedJob;
}

interface ToolDef<S extends z.ZodType> {
  name: string;
  description: string;
  schema: S;
  gate(input: z.output<S>, ctx: ToolContext): Gate;
  run(input: z.output<S>, services: AgentServices): Promise<RunResult>;
}

function tool<S extends z.ZodType>(d: ToolDef<S>): ToolDef<S> {
  return d;
}

function showParams(p: Record<string, ParamValue>): string {
  const parts = Object.entries(p).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return parts.length ? parts.join(' ') : '(defaults)';
}

function submitGate(templateId: string, params: Record<string, ParamValue>, ctx: ToolContext, what = 'Submit'): Gate {
  if (!ctx.tainted && ctx.autoSubmitsLeft > 0) return { kind: 'auto' };
  return {
    kind: 'approve',
    summary: `${what} a \`${templateId}\` job: ${showParams(params)}`,
    detail: `template ${templateId}\n${showParams(params)}`,
    reason: ctx.tainted
      ? 'the agent proposed this after reading cluster output (logs, files or command output), which could have steered it'
      : `more than ${AUTO_SUBMITS_PER_REQUEST} submits in one request`,
  };
}

const statusLine = (j: { jobId: string; name: string; state: string; elapsedSec: number | null; exitCode?: string; partition?: string; where?: string }): string =>
  [`job ${j.jobId}`, j.name, j.state, j.elapsedSec !== null ? `${j.elapsedSec}s` : null, j.exitCode ? `exit ${j.exitCode}` : null, j.partition ? `partition ${j.partition}` : null, j.where ? `(${j.where})` : null]
    .filter((x) => x !== null && x !== '').join(' | ');

export const TOOLS = [
  tool({
    name: 'list_templates',
    description: 'List the job templates (id, title, parameters with type, default and bounds). Call it before submit_job when unsure of a template id or parameter name.',
    schema: z.object({}).strict(),
    gate: () => ({ kind: 'auto' }),
    async run(_input, s) {
      const ts = await s.listTemplates();
      const text = ts.map((t) => [
        `${t.id}: ${t.title}. ${t.description}`,
        ...t.params.filter((p) => !p.advanced).map((p) => `  - ${p.name} (${p.type}${p.resource ? ', sbatch resource' : ''}${p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''}${p.min !== undefined ? `, min ${p.min}` : ''}${p.max !== undefined ? `, max ${p.max}` : ''}${p.choices ? `, one of ${p.choices.join('/')}` : ''}): ${p.help}`),
        ...(t.params.some((p) => p.advanced) ? [`  - advanced: ${t.params.filter((p) => p.advanced).map((p) => p.name).join(', ')}`] : []),
      ].join('\n')).join('\n\n');
      // Templates are local files the user installed, not cluster output.
      return { text: text || 'No templates are installed.', untrusted: false };
    },
  }),
  tool({
    name: 'submit_job',
    description: 'Submit a job from a template with parameter values (validated against the template). Use it for what the user asked for; the relay reports when the job ends, so do not poll.',
    schema: z.object({
      template: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a template id from list_templates'),
      params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), PARAM_VALUE).default({}),
    }).strict(),
    gate: (i, ctx) => submitGate(i.template, i.params, ctx),
    async run(i, s) {
      const job = await s.submitJob(i.template, i.params);
      return { text: `Submitted job ${job.jobId} (${job.templateId}: ${showParams(job.params)}).${job.workDir ? ` Working directory: ${job.workDir}.` : ''} The relay will report when it ends.`, untrusted: false, submitted: job };
    },
  }),
  tool({
    name: 'job_status',
    description: 'State of the given jobs (or, with no ids, of the user\'s unfinished jobs): squeue while queued/running, sacct once ended.',
    schema: z.object({ job_ids: z.array(JOB_ID).max(50).default([]) }).strict(),
    gate: () => ({ kind: 'auto' }),
    async run(i, s) {
      const rows = await s.jobStatus(i.job_ids);
      return { text: rows.length ? rows.map(statusLine).join('\n') : 'No matching jobs.', untrusted: true };
    },
  }),
  tool({
    name: 'tail_log',
    description: 'The last bytes of a job\'s output (stdout) or error (stderr) file.',
    schema: z.object({ job_id: JOB_ID, bytes: z.int().min(1).max(65_536).default(4000), stream: z.enum(['stdout', 'stderr']).default('stdout') }).strict(),
    gate: () => ({ kind: 'auto' }),
    async run(i, s) {
      const t = await s.tailLog(i.job_id, { bytes: i.bytes, stream: i.stream });
      return { text: `${t.path}${t.truncated ? ` (last ${i.bytes} bytes)` : ''}:\n${t.text}`, untrusted: true };
    },
  }),
  tool({
    name: 'read_metrics',
    description: 'Training metrics of a job: per-epoch series from metrics.csv (or the log) and the numbers in summary.json.',
    schema: z.object({ job_id: JOB_ID }).strict(),
    gate: () => ({ kind: 'auto' }),
    async run(i, s) {
      const m = await s.readMetrics(i.job_id);
      const series = Object.entries(m.series).map(([name, pts]) => `${name}: ${pts.map((p) => `${p.step}:${p.value ?? 'nan'}`).join(' ')}`);
      const summary = Object.entries(m.summary).map(([k, v]) => `${k}=${v ?? 'null'}`);
      return { text: [`metrics of job ${m.jobId} from ${m.dir}`, ...series, summary.length ? `summary: ${summary.join(' ')}` : 'no summary.json'].join('\n'), untrusted: true };
    },
  }),
  tool({
    name: 'cancel_job',
    description: 'Cancel a job (scancel). Always needs a person\'s approval.',
    schema: z.object({ job_id: JOB_ID }).strict(),
    gate: (i) => ({ kind: 'approve', summary: `Cancel job ${i.job_id}`, detail: `scancel ${i.job_id}`, reason: 'cancelling changes the cluster' }),
    async run(i, s) {
      await s.cancelJob(i.job_id);
      return { text: `Cancelled job ${i.job_id}.`, untrusted: false };
    },
  }),
  tool({
    name: 'resubmit_job',
    description: 'Submit a job again with the same template and values, with the given changes. Always needs a person\'s approval.',
    schema: z.object({ job_id: JOB_ID, changes: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), PARAM_VALUE).default({}) }).strict(),
    gate: (i) => ({ kind: 'approve', summary: `Resubmit job ${i.job_id} with ${showParams(i.changes)}`, detail: `resubmit ${i.job_id} ${showParams(i.changes)}`, reason: 'a resubmit starts a new job' }),
    async run(i, s) {
      const job = await s.resubmitJob(i.job_id, i.changes);
      return { text: `Resubmitted job ${i.job_id} as job ${job.jobId} (${job.templateId}: ${showParams(job.params)}).`, untrusted: false, submitted: job };
    },
  }),
  tool({
    name: 'run_remote_command',
    description: 'Run one program on the login node, as an argv array (no shell: no pipes, redirects or $VARS). Read-only commands (squeue, sinfo, sacct, scontrol show, ls, cat, head, tail, grep, find without -exec, du, df, quota, nvidia-smi queries, …) run at once; anything else waits for a person\'s approval.',
    schema: z.object({
      argv: z.array(z.string().max(4096)).min(1).max(64),
      timeout_seconds: z.int().min(1).max(300).default(60),
    }).strict(),
    gate(i) {
      const v = classifyCommand(i.argv);
      if (v.readOnly) return { kind: 'auto' };
      const line = commandLine(i.argv);
      return { kind: 'approve', summary: `Run \`${clip(line, 300).text}\` on the login node`, detail: line, reason: `it may change something: ${v.reason}` };
    },
    async run(i, s) {
      const r = await s.runRemoteCommand(i.argv, { timeoutMs: i.timeout_seconds * 1000 });
      const parts = [`exit ${r.exitCode ?? 'none (killed)'}${r.truncated ? ', output truncated' : ''}`];
      if (r.stdout) parts.push(`stdout:\n${r.stdout}`);
      if (r.stderr) parts.push(`stderr:\n${r.stderr}`);
      return { text: parts.join('\n'), untrusted: true };
    },
  }),
  tool({
    name: 'write_remote_file',
    description: 'Write a text file on the cluster (a relative path is under the relay\'s remote directory). Always needs a person\'s approval.',
    schema: z.object({ path: z.string().min(1).max(1024).regex(/^[^\0\n\r]+$/, 'one line, no NUL'), content: z.string().max(262_144) }).strict(),
    gate: (i) => ({
      kind: 'approve',
      summary: `Write ${Buffer.byteLength(i.content)} bytes to \`${i.path}\` on the cluster`,
      detail: `${i.path}\n---\n${clip(i.content, 1500).text}`,
      reason: 'writing a file changes the cluster',
    }),
    async run(i, s) {
      const r = await s.writeRemoteFile(i.path, i.content);
      return { text: `Wrote ${r.bytes} bytes to ${r.path}.`, untrusted: false };
    },
  }),
  tool({
    name: 'schedule_monitor',
    description: 'Create a monitor: `digest` posts a job digest on a schedule without any model call (prefer it); `prompt` runs an agent prompt each time (costs a model run per tick). Always needs a person\'s approval.',
    schema: z.object({
      schedule: z.string().min(1).max(100),
      kind: z.enum(['digest', 'prompt']).default('digest'),
      prompt: z.string().max(4000).optional(),
      target: z.string().max(200).optional(),
      name: z.string().max(100).optional(),
    }).strict(),
    gate: (i) => ({
      kind: 'approve',
      summary: `Create a ${i.kind} monitor "${i.name ?? i.schedule}" (${i.schedule})${i.target ? ` posting to ${i.target}` : ''}`,
      detail: i.prompt ? `prompt: ${clip(i.prompt, 1000).text}` : `schedule: ${i.schedule}`,
      reason: i.kind === 'prompt' ? 'a prompt monitor spends model calls on every run' : 'a monitor keeps running after this conversation',
    }),
    async run(i, s) {
      const r = await s.scheduleMonitor({
        schedule: i.schedule, kind: i.kind, ...(i.prompt !== undefined ? { prompt: i.prompt } : {}), ...(i.target !== undefined ? { target: i.target } : {}), ...(i.name !== undefined ? { name: i.name } : {}),
      });
      return { text: `Monitor ${r.id} created: ${r.description}.`, untrusted: false };
    },
  }),
] as const;

export type ToolName = (typeof TOOLS)[number]['name'];

/** The tool definitions as the Messages API takes them (JSON Schema from the zod schemas). */
export function toolSpecs(): Tool[] {
  return TOOLS.map((t) => {
    const { $schema: _drop, ...schema } = z.toJSONSchema(t.schema, { io: 'input' }) as Record<string, unknown>;
    return { name: t.name, description: t.description, input_schema: { ...schema, type: 'object' } as Tool['input_schema'] };
  });
}

function outcome(o: Omit<ToolOutcome, 'auditOutput'> & { auditOutput?: string }): ToolOutcome {
  return { ...o, auditOutput: o.auditOutput ?? o.content };
}

/**
 * Validates, gates and runs one tool call. Never throws: every failure becomes an error result
 * the model can read (and the audit log records).
 */
export async function runTool(name: string, rawInput: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const def = TOOLS.find((t) => t.name === name);
  if (!def) {
    return outcome({ content: `There is no tool "${name.slice(0, 64)}". The tools are: ${TOOLS.map((t) => t.name).join(', ')}.`, isError: true, untrusted: false, decision: 'invalid', approvedBy: null });
  }
  const parsed = (def.schema as z.ZodType).safeParse(rawInput);
  if (!parsed.success) {
    return outcome({ content: `Invalid input for ${name}:\n${z.prettifyError(parsed.error)}\nFix the input and call it again.`, isError: true, untrusted: false, decision: 'invalid', approvedBy: null });
  }
  const input = parsed.data as never;
  let gate: Gate;
  try {
    gate = (def.gate as (i: never, c: ToolContext) => Gate)(input, ctx);
  } catch (e) {
    return outcome({ content: `Invalid input for ${name}: ${describeError(e)}`, isError: true, untrusted: false, decision: 'invalid', approvedBy: null });
  }
  let decision: AuditDecision = 'auto';
  let approvedBy: string | null = null;
  if (gate.kind === 'approve') {
    let d;
    try {
      d = await ctx.approver.request({ summary: gate.summary, detail: gate.detail, reason: gate.reason, tool: name, conversationId: ctx.conversationId });
    } catch (e) {
      d = { approved: false as const, by: null, reason: 'unavailable' as const, error: describeError(e) };
    }
    if (!d.approved) {
      const why = d.reason === 'denied' ? `denied${d.by ? ` by ${d.by}` : ''}` : d.reason === 'expired' ? 'not answered in time' : d.reason === 'stopped' ? 'cancelled (the relay stopped)' : 'not possible here (nobody can approve from this place)';
      return outcome({
        content: `Not done: this needs a person's approval (${gate.reason}), and the approval was ${why}. Do not retry it another way; tell the user what you wanted to do and why.`,
        isError: true, untrusted: false, decision: 'denied', approvedBy: d.by,
      });
    }
    decision = 'approved';
    approvedBy = d.by;
  }
  try {
    const r = await (def.run as (i: never, s: AgentServices) => Promise<RunResult>)(input, ctx.services);
    const content = r.untrusted ? wrapUntrusted(name, r.text, ctx.registry) : ctx.registry.redact(r.text);
    return outcome({ content, isError: false, untrusted: r.untrusted, decision, approvedBy, auditOutput: r.text, ...(r.submitted ? { submitted: r.submitted } : {}) });
  } catch (e) {
    // Error text can carry remote stderr: it is data, like any output.
    const msg = describeError(e);
    return outcome({ content: wrapUntrusted(`${name} error`, `${name} failed: ${msg}`, ctx.registry), isError: true, untrusted: true, decision: decision === 'auto' ? 'failed' : decision, approvedBy, auditOutput: `failed: ${msg}` });
  }
}
