import type { ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { describeError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import { systemClock } from '../ports.js';
import type { SecretRegistry } from '../secrets/redact.js';
import type { AgentHandler, AgentIo, AgentRequest, UsageApi, UsageSummary } from '../slack/jobs-api.js';
import { bestLine, bestTask, failedTasks, metricText, sweepCounts, taskLabel } from '../notify/sweep-messages.js';
import type { AgentStore, ConversationSpend, RunRow } from '../store/agent-store.js';
import type { SweepFacts } from '../store/sweep-facts.js';
import { slackApprover } from './approvers.js';
import { appendUser, applySummary, assistantParams, chooseCut, elideToolResults, historyChars, repairHistory, transcript, type Turn } from './conversation.js';
import { ModelGateway, monthStart, type ModelGatewayOptions } from './llm.js';
import { NO_APPROVER, type AgentSettings, type Approver, type FinishedJob, type ThreadPoster, type ThreadRef } from './ports.js';
import { formatUsd, pricingFor } from './pricing.js';
import { AGENT_SYSTEM, COMPRESS_SYSTEM, SUMMARY_SYSTEM } from './prompts.js';
import { ResearchEngine } from './research.js';
import type { AgentServices, JobMetrics, SubmittedJob } from './services.js';
import { AUTO_SUBMITS_PER_REQUEST, runTool, toolSpecs } from './tools.js';
import { clip, wrapUntrusted } from './untrusted.js';

export interface AgentDeps {
  store: AgentStore;
  services: AgentServices;
  /** The llm.* settings, read on every request. */
  settings: () => AgentSettings;
  /** The anthropic-api-key secret (null when unset). */
  apiKey: () => Promise<string | null>;
  /** Where job summaries and research updates go when no request is waiting for them. */
  poster: ThreadPoster;
  registry: SecretRegistry;
  logger: Logger;
  clock?: Clock;
  model?: ModelGatewayOptions;
  /** The model's context window in tokens (default 200 000). */
  contextTokens?: number;
  /** Compress when a request would use more than this share of the context (default 0.7). */
  compressAt?: number;
}

export interface AskOptions {
  conversationId: string;
  where: ThreadRef;
  approver: Approver;
}

export interface AskResult {
  text: string;
  /** Jobs submitted during the request. */
  submitted: SubmittedJob[];
  /** Model calls made for this request (compression included). */
  modelCalls: number;
  ok: boolean;
}

export interface UsageReport extends UsageSummary {
  /** "July 2026". */
  month: string;
  remainingUsd: number;
  calls: number;
  model: string;
  /** The price family the model is counted at; `fallback` when the table does not know it. */
  pricedAs: string;
  fallbackPrice: boolean;
  byConversation: ConversationSpend[];
}

/** The cron module's AgentRunner port, structurally (prompt monitors). */
export interface PromptRunner {
  run(req: { prompt: string; monitorId: string; monitorName: string }): Promise<{ text: string; costUsd?: number }>;
}

export const ENABLE_HINT = 'To enable it: `hpc-relay secrets set anthropic-api-key`, then `hpc-relay config set llm.enabled true`.';

/** One conversation per Slack thread (a DM's top level is one rolling conversation). */
export function slackConversationId(channelId: string, threadTs?: string): string {
  return `slack:${channelId}:${threadTs ?? 'top'}`;
}

const STOP = /^(?:stop|stop research|stop the research|research stop)[.!]?$/i;
const RESEARCH = /^research\b/i;

/**
 * The agent: free-form requests (a tool-use loop over AgentServices with the approval guard),
 * one summary when a job it launched ends, research loops, usage and the budget. It is the Slack
 * gateway's AgentHandler and its UsageApi; `hpc-relay ask` and `hpc-relay usage` use it too.
 *
 * The model is called only for a person's message, once when a job the agent launched ends, once
 * per research round, and to compress a long conversation: never on a timer.
 */
export class Agent implements AgentHandler, UsageApi {
  readonly gateway: ModelGateway;
  readonly research: ResearchEngine;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: AgentDeps) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.logger.child({ component: 'agent' });
    this.gateway = new ModelGateway({ store: deps.store, settings: deps.settings, apiKey: deps.apiKey, clock: this.clock, logger: this.log, ...(deps.model ? { options: deps.model } : {}) });
    this.research = new ResearchEngine({
      store: deps.store, services: deps.services, gateway: this.gateway, poster: deps.poster, registry: deps.registry, clock: this.clock, logger: this.log,
    });
  }

  /** Whether the model may be called at all: enabled and a key present. */
  async availability(): Promise<{ ok: true } | { ok: false; message: string }> {
    const key = await this.deps.apiKey().catch(() => null);
    const enabled = this.deps.settings().enabled;
    if (key && enabled) return { ok: true };
    const why = !key && !enabled ? 'is off and has no Anthropic API key' : !key ? 'has no Anthropic API key' : 'is off (llm.enabled is false)';
    const fix = !key ? ENABLE_HINT : 'To enable it: `hpc-relay config set llm.enabled true`.';
    return { ok: false, message: `The agent ${why}, so I can only run commands (\`help\` lists them). ${fix}` };
  }

  /** Runs work for one conversation after the work before it (two messages in a thread never interleave). */
  private serial<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(op, op);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => { if (this.queues.get(key) === tail) this.queues.delete(key); });
    return run;
  }

  // ---- Slack ----

  async handle(req: AgentRequest, io: AgentIo): Promise<void> {
    const where: ThreadRef = { channelId: req.channelId, ...(req.threadTs ? { threadTs: req.threadTs } : {}) };
    const conversationId = slackConversationId(req.channelId, req.threadTs);
    const text = req.text.trim();
    if (STOP.test(text)) {
      const stopped = await this.research.stop(conversationId, `<@${req.userId}>`);
      if (!stopped) await io.say('No research loop is running in this thread.');
      return;
    }
    const gate = await this.availability();
    if (!gate.ok) {
      await io.say(gate.message);
      return;
    }
    if (RESEARCH.test(text)) {
      try {
        await this.research.start(text, { conversationId, where });
      } catch (e) {
        await io.say(describeError(e));
      }
      return;
    }
    const about = req.jobId ? `(This thread is about job ${req.jobId}.)\n` : '';
    const r = await this.ask(`${about}${text}`, { conversationId, where, approver: slackApprover(io) });
    await io.say(r.text);
  }

  // ---- usage ----

  async usage(): Promise<UsageSummary> {
    const r = this.usageReport();
    return { monthUsd: r.monthUsd, budgetUsd: r.budgetUsd, inputTokens: r.inputTokens, outputTokens: r.outputTokens, conversations: r.conversations };
  }

  usageReport(): UsageReport {
    const b = this.gateway.budget();
    const t = this.deps.store.spendSince(monthStart(this.clock.now()));
    const model = this.deps.settings().model;
    const p = pricingFor(model);
    return {
      month: b.monthName,
      monthUsd: t.usd,
      budgetUsd: b.budgetUsd,
      remainingUsd: Math.max(0, b.budgetUsd - t.usd),
      inputTokens: t.inputTokens,
      outputTokens: t.outputTokens,
      conversations: t.conversations,
      calls: t.calls,
      model,
      pricedAs: p.pricing.family,
      fallbackPrice: p.fallback || t.fallbackCalls > 0,
      byConversation: this.deps.store.spendByConversation(monthStart(this.clock.now())),
    };
  }

  // ---- requests ----

  /** One request in a conversation: the tool-use loop, approvals through `approver`. Never throws for model or budget trouble: the text says what happened. */
  async ask(text: string, o: AskOptions): Promise<AskResult> {
    const gate = await this.availability();
    if (!gate.ok) return { text: gate.message, submitted: [], modelCalls: 0, ok: false };
    return this.serial(o.conversationId, () => this.converse(text, o));
  }

  private loadHistory(conversationId: string, where: ThreadRef): { history: Turn[]; tainted: boolean; compressions: number } {
    const row = this.deps.store.ensureConversation(conversationId, where, this.clock.now());
    let history: Turn[] = [];
    try {
      const parsed: unknown = JSON.parse(row.messages);
      if (Array.isArray(parsed)) history = parsed as Turn[];
    } catch {
      this.log.warn('conversation history unreadable; starting afresh', { conversationId });
    }
    return { history: repairHistory(history), tainted: row.tainted, compressions: row.compressions };
  }

  private async converse(userText: string, o: AskOptions): Promise<AskResult> {
    const settings = this.deps.settings();
    const state = this.loadHistory(o.conversationId, o.where);
    let { history } = state;
    let { tainted, compressions } = state;
    let lastInputTokens = 0;
    const save = () => this.deps.store.saveConversation({ id: o.conversationId, messages: history, tainted, compressions, lastInputTokens }, this.clock.now());
    appendUser(history, [{ type: 'text', text: this.deps.registry.redact(userText) }]);
    const submitted: SubmittedJob[] = [];
    let autoSubmitsLeft = AUTO_SUBMITS_PER_REQUEST;
    let modelCalls = 0;
    const tools = toolSpecs();
    try {
      for (let turn = 1; ; turn++) {
        const c = await this.maybeCompress(history, o.conversationId, tools.length ? JSON.stringify(tools).length : 0);
        if (c.history !== history) {
          history = c.history;
          if (c.calls) compressions++;
          modelCalls += c.calls;
          save();
        }
        const msg = await this.gateway.create({ system: AGENT_SYSTEM, messages: history, tools }, { conversationId: o.conversationId, purpose: 'request' });
        modelCalls++;
        lastInputTokens = msg.usage.input_tokens;
        const content = assistantParams(msg.content);
        const said = content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n').trim();
        const calls = msg.content.flatMap((b) => (b.type === 'tool_use' ? [b] : []));
        if (content.length) history.push({ role: 'assistant', content });
        if (msg.stop_reason !== 'tool_use' || calls.length === 0) {
          save();
          const cut = msg.stop_reason === 'max_tokens' ? ' (the answer was cut off at the length limit)' : '';
          return { text: `${said || 'The model gave no answer.'}${cut}`, submitted, modelCalls, ok: true };
        }
        const contextTainted = tainted;
        const results: ToolResultBlockParam[] = [];
        for (const call of calls) {
          const out = await runTool(call.name, call.input, {
            conversationId: o.conversationId, loopId: null, tainted: contextTainted, autoSubmitsLeft, approver: o.approver, services: this.deps.services, registry: this.deps.registry,
          });
          if (out.submitted) {
            submitted.push(out.submitted);
            this.trackLaunch(o.conversationId, out.submitted);
            if (out.decision === 'auto') autoSubmitsLeft--;
          }
          if (out.untrusted) tainted = true;
          this.deps.store.audit({
            at: this.clock.now(), conversationId: o.conversationId, loopId: null, tool: call.name, input: JSON.stringify(call.input ?? null).slice(0, 20_000),
            output: out.auditOutput.slice(0, 20_000), decision: out.decision, approvedBy: out.approvedBy, isError: out.isError,
          });
          this.log.info('agent tool call', { conversationId: o.conversationId, tool: call.name, decision: out.decision, error: out.isError });
          results.push({ type: 'tool_result', tool_use_id: call.id, content: out.content, ...(out.isError ? { is_error: true } : {}) });
        }
        appendUser(history, results);
        save();
        if (turn >= settings.maxTurns) {
          return {
            text: `${said ? `${said}\n` : ''}I stopped after ${settings.maxTurns} model turns (llm.maxTurns) without finishing; say "continue" to go on.`,
            submitted, modelCalls, ok: true,
          };
        }
      }
    } catch (e) {
      save();
      this.log.warn('agent request failed', { conversationId: o.conversationId, err: describeError(e) });
      return { text: describeError(e), submitted, modelCalls, ok: false };
    }
  }

  private trackLaunch(conversationId: string, job: SubmittedJob): void {
    const runId = `req:${job.jobId}`;
    this.deps.store.addRun({ runId, conversationId, loopId: null, templateId: job.templateId, params: job.params }, this.clock.now());
    this.deps.store.runSubmitted(runId, job.jobId, job.workDir ?? null, job.params);
  }

  /**
   * When the next request would pass the compression threshold: older turns are summarised in one
   * model call (cut at a person's message, so tool_use/tool_result pairs stay whole); when there
   * is nothing older to cut, old tool outputs are shortened in place instead.
   */
  private async maybeCompress(history: Turn[], conversationId: string, toolChars: number): Promise<{ history: Turn[]; calls: number }> {
    const limitChars = (this.deps.contextTokens ?? 200_000) * 4 * (this.deps.compressAt ?? 0.7);
    const size = () => AGENT_SYSTEM.length + toolChars + historyChars(history);
    if (size() <= limitChars) return { history, calls: 0 };
    const cut = chooseCut(history, limitChars * 0.4);
    let out = history;
    let calls = 0;
    if (cut !== null) {
      const msg = await this.gateway.create({
        system: COMPRESS_SYSTEM,
        messages: [{ role: 'user', content: `Summarise this conversation so far:\n\n${transcript(history.slice(0, cut))}` }],
        maxTokens: 1500,
      }, { conversationId, purpose: 'compress' });
      calls = 1;
      const summary = msg.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n').trim() || '(no summary)';
      out = applySummary(history, cut, summary);
      this.log.info('conversation compressed', { conversationId, droppedTurns: cut, charsBefore: historyChars(history), charsAfter: historyChars(out) });
    }
    if (AGENT_SYSTEM.length + toolChars + historyChars(out) > limitChars) out = elideToolResults(out, 2);
    return { history: out, calls };
  }

  // ---- job ends ----

  /**
   * The job service's completion event. For a job of a research loop, the loop decides what
   * happens next; for a job the agent launched on request, one model call writes a summary with a
   * next step, posted in the conversation's thread (exactly once per job); for any other job,
   * nothing: no model call.
   */
  async onJobFinished(job: FinishedJob): Promise<void> {
    const run = this.deps.store.runByJob(job.jobId);
    if (!run) return;
    if (run.status === 'finished' && (run.loopId || run.summarizedAt !== null)) return;
    const metrics = await this.readMetrics(job.jobId);
    if (run.loopId) {
      await this.research.onRunFinished(run, job, metrics);
      return;
    }
    const facts = this.jobFacts(job, run.templateId, run.params, metrics);
    await this.summarize(run, {
      jobId: job.jobId, state: job.state, metrics: metrics ? metrics.summary : null,
      plain: `Job ${job.jobId} (${run.templateId}) ended: ${facts.short}`,
      heading: `Job ${job.jobId} ended (${job.state}).`,
      note: `[HPC Relay event] Job ${job.jobId} (${run.templateId}) ended: ${facts.short}`,
      prompt: async () => {
        const tail = await this.deps.services.tailLog(job.jobId, { bytes: 2500, stream: 'stdout' }).catch((e: unknown) => ({ text: `(log unavailable: ${describeError(e)})`, path: '' }));
        return [facts.long, `The end of its output:\n${wrapUntrusted(`log of job ${job.jobId}`, tail.text, this.deps.registry, 3000)}`].join('\n\n');
      },
    });
  }

  /**
   * A sweep (job array) the agent launched is over — its last task ended (forwardJobEnds): one
   * model call summarises it as a whole (each task's values, state and key metric, the best, what
   * failed) with a next step, once, in the conversation it was asked in. Its tasks have no runs of
   * their own, so their single ends are not summarised.
   */
  async onSweepFinished(sweep: SweepFacts): Promise<void> {
    const run = sweep.baseIds.map((id) => this.deps.store.runByJob(id)).find((r) => r !== null) ?? null;
    if (!run?.jobId || run.loopId || run.summarizedAt !== null) return;
    const jobId = run.jobId;
    const best = bestLine(sweep);
    const head = `Sweep ${jobId} (${run.templateId}) ended: ${sweepCounts(sweep)}${best ? `; ${best}` : ''}.`;
    const rows = sweep.tasks.map((t) => [
      `${taskLabel(t)}: ${t.state}`,
      ...(t.failureClass ? [t.failureClass] : []),
      ...(t.best && sweep.metric ? [`best ${sweep.metric.name} ${metricText(t.best.value)} at step ${t.best.step}`] : []),
      ...(t.attempts > 1 ? [`${t.attempts} attempts`] : []),
    ].join(', '));
    const top = bestTask(sweep);
    await this.summarize(run, {
      jobId, state: failedTasks(sweep).length === 0 ? 'COMPLETED' : 'FAILED',
      metrics: top?.best && sweep.metric ? { [`best_${sweep.metric.name}`]: top.best.value } : null,
      plain: head,
      heading: `Sweep ${jobId} ended (${sweepCounts(sweep)}).`,
      note: `[HPC Relay event] ${head}`,
      prompt: async () => [
        `The job array (a sweep over a parameter grid) launched from template ${run.templateId} with ${Object.entries(run.params).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'defaults'} has ended: ${sweepCounts(sweep)}.`,
        'Summarise the sweep as a whole: which values worked best and by how much, what failed, and one next sweep or run (values).',
        wrapUntrusted(`tasks of sweep ${jobId}`, rows.join('\n'), this.deps.registry, 4000),
      ].join('\n\n'),
    });
  }

  /** The one end summary of a run the agent launched (a job or a sweep): claimed once, one model call, posted in its conversation. */
  private async summarize(run: RunRow, s: { jobId: string; state: string; metrics: Record<string, number | null> | null; plain: string; heading: string; note: string; prompt: () => Promise<string> }): Promise<void> {
    await this.serial(run.conversationId, async () => {
      this.deps.store.finishRun(s.jobId, s.state, null, s.metrics, this.clock.now());
      if (!this.deps.store.claimSummary(s.jobId, this.clock.now())) return;
      const conv = this.deps.store.conversation(run.conversationId);
      const where: ThreadRef = conv ? { channelId: conv.channelId, ...(conv.threadTs ? { threadTs: conv.threadTs } : {}) } : { channelId: 'cli' };
      const gate = await this.availability();
      if (!gate.ok) {
        await this.post(where, s.plain);
        return;
      }
      const prompt = await s.prompt();
      let summary: string;
      try {
        const msg = await this.gateway.create({ system: SUMMARY_SYSTEM, messages: [{ role: 'user', content: prompt }], maxTokens: 400 }, { conversationId: run.conversationId, purpose: 'summary' });
        summary = msg.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n').trim();
      } catch (e) {
        await this.post(where, `${s.plain}\n(No summary: ${describeError(e)})`);
        return;
      }
      await this.post(where, `${s.heading} ${summary}`);
      // Kept in the conversation so a reply ("do that") has the context; the summary read cluster output, so the conversation is tainted.
      const state = this.loadHistory(run.conversationId, where);
      appendUser(state.history, [{ type: 'text', text: s.note }]);
      state.history.push({ role: 'assistant', content: [{ type: 'text', text: summary || '(no summary)' }] });
      this.deps.store.saveConversation({ id: run.conversationId, messages: state.history, tainted: true, compressions: state.compressions, lastInputTokens: 0 }, this.clock.now());
    });
  }

  private async readMetrics(jobId: string): Promise<JobMetrics | null> {
    try {
      return await this.deps.services.readMetrics(jobId);
    } catch (e) {
      this.log.info('no metrics for job', { jobId, err: describeError(e) });
      return null;
    }
  }

  private jobFacts(job: FinishedJob, templateId: string, params: Record<string, unknown>, m: JobMetrics | null): { short: string; long: string } {
    const ran = typeof job.elapsedSec === 'number' ? ` after ${job.elapsedSec}s` : '';
    const exit = job.exitCode ? `, exit ${job.exitCode}` : '';
    const keys = ['best_val_acc', 'final.val_acc', 'final.val_loss', 'best_epoch'];
    const headline = m ? keys.flatMap((k) => (typeof m.summary[k] === 'number' ? [`${k}=${String(m.summary[k])}`] : [])).join(' ') : '';
    const short = `${job.state}${exit}${ran}${headline ? `; ${headline}` : ''}.`;
    const series = m ? Object.entries(m.series).map(([name, pts]) => `${name}: ${pts.map((p) => `${p.step}:${p.value ?? 'nan'}`).join(' ')}`) : [];
    const summary = m ? Object.entries(m.summary).map(([k, v]) => `${k}=${v ?? 'null'}`).join(' ') : '';
    const long = [
      `Job ${job.jobId} from template ${templateId} with ${Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'defaults'} ended: ${job.state}${exit}${ran}.`,
      m ? wrapUntrusted(`metrics of job ${job.jobId}`, `${series.join('\n')}\nsummary.json: ${summary || '(none)'}`, this.deps.registry, 4000) : 'No metrics were found.',
    ].join('\n');
    return { short, long };
  }

  private async post(where: ThreadRef, text: string): Promise<void> {
    await this.deps.poster.post(where, this.deps.registry.redact(text)).catch((e: unknown) => this.log.warn('agent post not delivered', { err: describeError(e) }));
  }

  // ---- restarts, cron ----

  /** After a restart: research loops carry on (see ResearchEngine.resume). */
  async resume(): Promise<void> {
    await this.research.resume((id) => this.readMetrics(id));
  }

  /** The cron module's AgentRunner: a prompt monitor's run, with nobody to approve (changes are refused). */
  promptRunner(): PromptRunner {
    return {
      run: async (req) => {
        const conversationId = `cron:${req.monitorId}`;
        const before = this.deps.store.spendFor(conversationId, 'request', 0);
        const r = await this.ask(`[Scheduled monitor "${clip(req.monitorName, 80).text}"] ${req.prompt}`, { conversationId, where: { channelId: 'cron' }, approver: NO_APPROVER });
        return { text: r.text, costUsd: this.deps.store.spendFor(conversationId, 'request', 0) - before };
      },
    };
  }

  /** For `usage` output: "$0.12 of $20.00 this month". */
  spendLine(): string {
    const r = this.usageReport();
    return `${formatUsd(r.monthUsd)} of ${formatUsd(r.budgetUsd)} in ${r.month}`;
  }
}

