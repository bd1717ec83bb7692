import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import { RelayError, describeError, isRelayError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import type { SecretRegistry } from '../secrets/redact.js';
import { isFinalState } from '../slurm/slurm-values.js';
import type { AgentStore, LoopRow, RunRow } from '../store/agent-store.js';
import type { ModelGateway } from './llm.js';
import { renderRunsChartPng, type ChartRenderer } from '../slack/chart.js';
import type { FinishedJob, ThreadPoster, ThreadRef } from './ports.js';
import { formatUsd } from './pricing.js';
import { RESEARCH_SYSTEM } from './prompts.js';
import { better, describeGoal, meetsTarget, parseGoal, type ResearchGoal } from './research-goal.js';
import { bestRunOf, chartAltText, endReport, finalKey, finalMetric, fmtMetric as fmt, runValues, showParams as show, slackText, targetText } from './research-report.js';
import type { AgentServices, JobMetrics, ParamValue, TemplateInfo, TemplateParamInfo } from './services.js';

/**
 * The research loop: propose configurations (one model call per round), submit them, wait for
 * the jobs to end (the job service's completion events call onRunFinished: nothing here polls,
 * and the model never sees a clock), read the metric, decide in code: stop when the target is met,
 * on a plateau, at the run limit, on the budget, or on `stop`; otherwise the next round.
 *
 * A round is a batch of up to `parallel` runs; the next round is proposed when the batch has
 * ended. All state is in the store (agent_loops, agent_jobs), so a new engine over the same
 * database carries on where the old one stopped.
 *
 * The model only ever sees numbers the relay extracted (the metric per run) and the template's
 * parameter list, never raw logs; its proposals are checked in code against the parameters the
 * goal lets it vary and their bounds before anything is submitted. That is why the loop's submits
 * need no per-run approval: the user's `research` message authorised up to `maxRuns` runs of that
 * template, varying only those values.
 */
export interface ResearchDeps {
  store: AgentStore;
  services: AgentServices;
  gateway: ModelGateway;
  poster: ThreadPoster;
  registry: SecretRegistry;
  clock: Clock;
  logger: Logger;
  /** Renders the end-of-loop chart (resvg by default); used only when the poster takes files. */
  chartRenderer?: ChartRenderer;
}

const TUNABLE_TYPES = ['int', 'float', 'enum', 'bool'];
const EXPLICIT_TYPES = [...TUNABLE_TYPES, 'duration', 'memory'];

export const PROPOSE_TOOL = 'propose_runs';

/** The best value of the goal's metric in a job's metrics: the series' best step, else summary.json. */
export function extractMetric(m: JobMetrics | null, goal: Pick<ResearchGoal, 'metric' | 'direction'>): number | null {
  if (!m) return null;
  const pts = (m.series[goal.metric] ?? []).map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (pts.length) return goal.direction === 'max' ? Math.max(...pts) : Math.min(...pts);
  for (const k of [goal.metric, `best_${goal.metric}`, `final.${goal.metric}`]) {
    const v = m.summary[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/** The parameters the model may set, with the goal's restrictions applied. */
export function tunableParams(t: TemplateInfo, goal: ResearchGoal): TemplateParamInfo[] {
  for (const name of [...Object.keys(goal.fixed), ...goal.tune]) {
    if (!t.params.some((p) => p.name === name)) {
      throw new RelayError('AGENT_GOAL_INVALID', `Template ${t.id} has no parameter "${name}".`, { fix: `Its parameters are: ${t.params.map((p) => p.name).join(', ')}.` });
    }
  }
  const params = goal.tune.length
    ? t.params.filter((p) => goal.tune.includes(p.name) && EXPLICIT_TYPES.includes(p.type))
    : t.params.filter((p) => !p.advanced && !p.resource && TUNABLE_TYPES.includes(p.type));
  const out = params.filter((p) => !Object.hasOwn(goal.fixed, p.name));
  if (out.length === 0) {
    throw new RelayError('AGENT_GOAL_INVALID', `Nothing to vary: template ${t.id} has no numeric, choice or yes/no parameter left to tune${Object.keys(goal.fixed).length ? ' after the fixed values' : ''}.`, {
      fix: 'Name the parameters to vary with `tune a,b`.',
    });
  }
  return out;
}

/** One proposed value checked against its parameter: the value to submit, or why not. */
export function checkValue(p: TemplateParamInfo, v: unknown): { ok: true; value: ParamValue } | { ok: false; why: string } {
  const inRange = (n: number) => (p.min === undefined || n >= p.min) && (p.max === undefined || n <= p.max);
  const range = `${p.min ?? '-∞'}…${p.max ?? '∞'}`;
  switch (p.type) {
    case 'int':
    case 'float': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) return { ok: false, why: `${p.name} must be a number` };
      if (p.type === 'int' && !Number.isInteger(n)) return { ok: false, why: `${p.name} must be a whole number` };
      if (!inRange(n)) return { ok: false, why: `${p.name}=${n} is outside ${range}` };
      return { ok: true, value: n };
    }
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 'true' || v === 'false') return { ok: true, value: v === 'true' };
      return { ok: false, why: `${p.name} must be true or false` };
    case 'enum':
      return typeof v === 'string' && (p.choices ?? []).includes(v) ? { ok: true, value: v } : { ok: false, why: `${p.name} must be one of ${(p.choices ?? []).join(', ')}` };
    default:
      // duration / memory named in `tune`: the template validates the text.
      return typeof v === 'string' && /^[A-Za-z0-9:.-]{1,32}$/.test(v) ? { ok: true, value: v } : { ok: false, why: `${p.name} must be a short value such as 00:10:00 or 2G` };
  }
}

function paramSchema(p: TemplateParamInfo): Record<string, unknown> {
  const base: Record<string, unknown> = { description: p.help.slice(0, 200) };
  if (p.type === 'int' || p.type === 'float') {
    return { ...base, type: p.type === 'int' ? 'integer' : 'number', ...(p.min !== undefined ? { minimum: p.min } : {}), ...(p.max !== undefined ? { maximum: p.max } : {}) };
  }
  if (p.type === 'bool') return { ...base, type: 'boolean' };
  if (p.type === 'enum') return { ...base, type: 'string', enum: p.choices ?? [] };
  return { ...base, type: 'string' };
}

export function proposeTool(params: readonly TemplateParamInfo[], slots: number): Tool {
  return {
    name: PROPOSE_TOOL,
    description: `Propose the next ${slots} configuration(s) to run.`,
    input_schema: {
      type: 'object',
      properties: {
        runs: {
          type: 'array',
          maxItems: slots,
          items: {
            type: 'object',
            properties: { params: { type: 'object', properties: Object.fromEntries(params.map((p) => [p.name, paramSchema(p)])), additionalProperties: false }, why: { type: 'string' } },
            required: ['params'],
          },
        },
        note: { type: 'string', description: 'One short sentence: the idea behind this round.' },
        stop: { type: 'boolean', description: 'True only if no configuration in bounds can reach the target.' },
      },
      required: ['runs'],
    },
  };
}

const PROPOSAL = z.object({
  runs: z.array(z.object({ params: z.record(z.string(), z.unknown()), why: z.string().optional() })).default([]),
  note: z.string().optional(),
  stop: z.boolean().optional(),
});

interface Plan {
  goal: ResearchGoal;
  template: TemplateInfo;
  params: TemplateParamInfo[];
}

export class ResearchEngine {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: ResearchDeps) {}

  private where(loop: LoopRow): ThreadRef {
    return { channelId: loop.channelId, ...(loop.threadTs ? { threadTs: loop.threadTs } : {}) };
  }

  private async post(where: ThreadRef, text: string): Promise<void> {
    await this.deps.poster.post(where, this.deps.registry.redact(text)).catch((e: unknown) => this.deps.logger.warn('research update not delivered', { err: describeError(e) }));
  }

  private async plan(goal: ResearchGoal): Promise<Plan> {
    const template = (await this.deps.services.listTemplates()).find((t) => t.id === goal.templateId);
    if (!template) throw new RelayError('AGENT_GOAL_INVALID', `There is no template "${goal.templateId}".`, { fix: 'List them with `hpc-relay templates` or ask me which exist.' });
    return { goal, template, params: tunableParams(template, goal) };
  }

  /** Starts a loop for `research <goal>` in a conversation; throws AGENT_GOAL_INVALID with the reason. */
  async start(text: string, ctx: { conversationId: string; where: ThreadRef }): Promise<string> {
    const goal = parseGoal(text);
    const { params } = await this.plan(goal);
    const running = this.deps.store.runningLoopFor(ctx.conversationId);
    if (running) throw new RelayError('AGENT_GOAL_INVALID', 'A research loop is already running in this thread.', { fix: 'Say `stop` to end it first.' });
    const id = randomUUID();
    this.deps.store.createLoop({ id, conversationId: ctx.conversationId, channelId: ctx.where.channelId, threadTs: ctx.where.threadTs ?? null, goal: JSON.stringify(goal), createdAt: this.deps.clock.now() });
    this.deps.logger.info('research loop started', { loopId: id, template: goal.templateId, metric: goal.metric, maxRuns: goal.maxRuns });
    await this.post(ctx.where, `${slackText(`Research started: ${describeGoal(goal)}. Varying ${params.map((p) => p.name).join(', ')}.`)} One update per round and a report with a chart at the end; say \`stop\` to end it.`);
    await this.advance(id);
    return id;
  }

  /** `stop` in the thread: ends the running loop (its jobs keep running). False when none runs. */
  async stop(conversationId: string, by: string): Promise<boolean> {
    const loop = this.deps.store.runningLoopFor(conversationId);
    if (!loop) return false;
    await this.end(loop, 'stopped', `stopped by ${by}`);
    return true;
  }

  /** A job of this loop ended (from the job service's completion event, via Agent.onJobFinished). */
  async onRunFinished(run: RunRow, job: FinishedJob, metrics: JobMetrics | null): Promise<void> {
    if (!run.loopId || !run.jobId) return;
    const loop = this.deps.store.loop(run.loopId);
    if (!loop) return;
    const goal = JSON.parse(loop.goal) as ResearchGoal;
    const value = job.state === 'COMPLETED' || metrics ? extractMetric(metrics, goal) : null;
    const summary = metrics ? Object.fromEntries(Object.entries(metrics.summary).slice(0, 40)) : null;
    // The last value of the metric's curve, for the end report's `final` column (summary.json may not have it).
    const last = finalMetric(metrics, goal.metric);
    if (summary && last !== null && typeof summary[finalKey(goal.metric)] !== 'number') summary[finalKey(goal.metric)] = last;
    if (!this.deps.store.finishRun(run.jobId, job.state, value, summary, this.deps.clock.now())) return;
    await this.advance(run.loopId);
  }

  /**
   * After a restart: submissions that never got a job id are marked lost; each running loop's
   * unfinished jobs are checked once (one squeue/sacct, not a poll) in case they ended while the
   * relay was down, and a loop waiting for nothing proposes its next round.
   */
  async resume(readMetrics: (jobId: string) => Promise<JobMetrics | null>): Promise<void> {
    this.deps.store.markLostSubmissions(this.deps.clock.now());
    for (const loop of this.deps.store.loops('running')) {
      const open = this.deps.store.runsForLoop(loop.id).filter((r) => r.status === 'running' && r.jobId);
      if (open.length) {
        const states = await this.deps.services.jobStatus(open.flatMap((r) => (r.jobId ? [r.jobId] : []))).catch((e: unknown) => {
          this.deps.logger.warn('research resume: job states unavailable', { loopId: loop.id, err: describeError(e) });
          return [];
        });
        for (const s of states) {
          const run = open.find((r) => r.jobId === s.jobId);
          if (run && isFinalState(s.state)) await this.onRunFinished(run, { jobId: s.jobId, state: s.state }, await readMetrics(s.jobId));
        }
      }
      await this.advance(loop.id);
    }
  }

  /** Decides what the loop does next; one decision at a time per loop. */
  advance(loopId: string): Promise<void> {
    const prev = this.chains.get(loopId) ?? Promise.resolve();
    const next = prev.then(() => this.step(loopId)).catch((e: unknown) => this.deps.logger.error('research step failed', { loopId, err: describeError(e) }));
    this.chains.set(loopId, next);
    return next;
  }

  private async step(loopId: string): Promise<void> {
    const loop = this.deps.store.loop(loopId);
    if (!loop || loop.status !== 'running') return;
    const goal = JSON.parse(loop.goal) as ResearchGoal;
    const runs = this.deps.store.runsForLoop(loopId);
    const done = runs.filter((r) => r.status === 'finished' || r.status === 'lost');
    const open = runs.filter((r) => r.status === 'running' || r.status === 'submitting');

    if (done.some((r) => meetsTarget(goal, r.metric))) return this.end(loop, 'done', 'target met');
    if (open.length > 0) return;
    if (runs.length >= goal.maxRuns) return this.end(loop, 'done', `used all ${goal.maxRuns} runs without reaching the target`);
    if (this.plateaued(goal, done)) return this.end(loop, 'done', `no improvement over the last ${goal.plateauRuns} runs (plateau)`);

    let plan: Plan;
    try {
      plan = await this.plan(goal);
    } catch (e) {
      return this.end(loop, 'failed', describeError(e));
    }
    const slots = Math.min(goal.parallel, goal.maxRuns - runs.length);
    let proposal: z.output<typeof PROPOSAL>;
    try {
      proposal = await this.propose(loop, plan, runs, slots);
    } catch (e) {
      if (isRelayError(e, 'AGENT_BUDGET_EXHAUSTED')) return this.end(loop, 'stopped', e.message);
      return this.end(loop, 'failed', `the model call failed: ${describeError(e)}`);
    }

    const seen = new Set(runs.map((r) => JSON.stringify(Object.entries(r.params).sort())));
    const accepted: Record<string, ParamValue>[] = [];
    const rejected: string[] = [];
    for (const r of proposal.runs) {
      if (accepted.length >= slots) break;
      const values: Record<string, ParamValue> = {};
      const problems: string[] = [];
      for (const [k, v] of Object.entries(r.params)) {
        const spec = plan.params.find((p) => p.name === k);
        if (!spec) { problems.push(`${k} may not be changed`); continue; }
        const c = checkValue(spec, v);
        if (c.ok) values[k] = c.value;
        else problems.push(c.why);
      }
      const full = { ...goal.fixed, ...values };
      const key = JSON.stringify(Object.entries(full).sort());
      if (!problems.length && seen.has(key)) problems.push('repeats an earlier run');
      if (problems.length) { rejected.push(`${show(values)}: ${problems.join('; ')}`); continue; }
      seen.add(key);
      accepted.push(full);
    }
    if (accepted.length === 0) {
      if (proposal.stop) return this.end(loop, 'done', `the model judged the target out of reach${proposal.note ? `: ${proposal.note}` : ''}`);
      return this.end(loop, 'failed', `no usable configuration was proposed${rejected.length ? ` (${rejected.slice(0, 3).join(' | ')})` : ''}`);
    }

    const round = loop.iteration + 1;
    this.deps.store.setLoopIteration(loopId, round, this.deps.clock.now());
    this.audit(loop, PROPOSE_TOOL, proposal, `round ${round}: accepted ${accepted.map(show).join(' | ') || 'none'}${rejected.length ? `; rejected ${rejected.join(' | ')}` : ''}`, false);
    const launched: string[] = [];
    const failures: string[] = [];
    let n = runs.length;
    for (const params of accepted) {
      n++;
      const runId = randomUUID();
      this.deps.store.addRun({ runId, conversationId: loop.conversationId, loopId, templateId: goal.templateId, params }, this.deps.clock.now());
      try {
        const job = await this.deps.services.submitJob(goal.templateId, params);
        this.deps.store.runSubmitted(runId, job.jobId, job.workDir ?? null, params);
        this.audit(loop, 'submit_job', { template: goal.templateId, params }, `Submitted job ${job.jobId}.`, false);
        launched.push(`#${n} ${show(this.varied(params, goal))} (job ${job.jobId})`);
      } catch (e) {
        this.deps.store.runFailedToSubmit(runId, describeError(e), this.deps.clock.now());
        failures.push(describeError(e));
        this.audit(loop, 'submit_job', { template: goal.templateId, params }, `failed: ${describeError(e)}`, true);
        launched.push(`#${n} ${show(this.varied(params, goal))} (not submitted: ${describeError(e).slice(0, 120)})`);
      }
    }
    await this.post(this.where(loop), this.roundUpdate(goal, round, runs, loop.updatedAt, launched, rejected, proposal.note));
    // Nothing was submitted: no completion event will ever come, and retrying would fail the same way.
    if (failures.length === accepted.length) {
      const fresh = this.deps.store.loop(loopId);
      if (fresh) await this.end(fresh, 'failed', `no run could be submitted (${failures[0]?.slice(0, 200) ?? 'unknown error'})`);
    }
  }

  /** The loop's actions in the audit log, beside the conversation's tool calls (authorised by the `research` request, so `auto`). */
  private audit(loop: LoopRow, tool: string, input: unknown, output: string, isError: boolean): void {
    this.deps.store.audit({
      at: this.deps.clock.now(), conversationId: loop.conversationId, loopId: loop.id, tool, input: JSON.stringify(input).slice(0, 20_000), output: output.slice(0, 20_000),
      decision: isError ? 'failed' : 'auto', approvedBy: null, isError,
    });
  }

  private varied(params: Record<string, ParamValue>, goal: ResearchGoal): Record<string, ParamValue> {
    return Object.fromEntries(Object.entries(params).filter(([k]) => !Object.hasOwn(goal.fixed, k)));
  }

  private plateaued(goal: ResearchGoal, done: RunRow[]): boolean {
    const k = goal.plateauRuns;
    if (done.length <= k) return false;
    const best = (rs: RunRow[]) => rs.reduce<number | null>((b, r) => (r.metric === null ? b : b === null || better(goal, r.metric, b) ? r.metric : b), null);
    const before = best(done.slice(0, done.length - k));
    if (before === null) return false;
    const recent = best(done.slice(done.length - k));
    return recent === null || !better(goal, recent, before);
  }

  private bestRun(goal: ResearchGoal, runs: RunRow[]): { run: RunRow; index: number } | null {
    return bestRunOf(goal, runs);
  }

  /**
   * The round's post: the previous round's results (its runs were launched after that round
   * began, `lastRoundAt`, the loop's update time before this one; a round may have had fewer runs
   * than `parallel`), the best so far, and what this round launched.
   */
  private roundUpdate(goal: ResearchGoal, round: number, before: RunRow[], lastRoundAt: number, launched: string[], rejected: string[], note: string | undefined): string {
    const lines: string[] = [];
    const finishedLastRound = before.filter((r) => r.status !== 'running' && r.status !== 'submitting' && r.launchedAt >= lastRoundAt);
    const last = finishedLastRound.slice(-goal.parallel);
    if (last.length) {
      const results = last.map((r) => `#${before.indexOf(r) + 1} ${show(this.varied(r.params, goal))} → ${r.metric !== null ? `${goal.metric} ${fmt(r.metric)}` : (r.finalState ?? 'no result')}`);
      lines.push(`Results: ${results.join(', ')}.`);
      const best = this.bestRun(goal, before);
      lines.push(best ? `Best so far ${goal.metric} ${fmt(best.run.metric)} (#${best.index + 1}); target ${goal.direction === 'max' ? '≥' : '≤'} ${goal.target}.` : `No result yet; target ${goal.metric} ${goal.direction === 'max' ? '≥' : '≤'} ${goal.target}.`);
    }
    lines.push(`Next: ${launched.join(', ')}.${note ? ` ${note.slice(0, 200)}` : ''}`);
    if (rejected.length) lines.push(`(Skipped ${rejected.length} unusable proposal${rejected.length > 1 ? 's' : ''}: ${rejected.slice(0, 2).join(' | ').slice(0, 200)})`);
    // Values from the goal and the model, the model's note, error text: escaped for Slack mrkdwn.
    return slackText(`Research round ${round}: ${lines.join(' ')}`);
  }

  private async propose(loop: LoopRow, plan: Plan, runs: RunRow[], slots: number): Promise<z.output<typeof PROPOSAL>> {
    const { goal, params } = plan;
    const best = this.bestRun(goal, runs);
    const history = runs.length
      ? runs.map((r, i) => `#${i + 1} ${show(this.varied(r.params, goal))} → ${r.finalState ?? r.status}${r.metric !== null ? `, ${goal.metric} ${r.metric}` : ', no metric'}`).join('\n')
      : '(none yet)';
    const text = [
      `Goal: ${goal.metric} ${goal.direction === 'max' ? (goal.strict ? '>' : '≥') : (goal.strict ? '<' : '≤')} ${goal.target} (${goal.direction === 'max' ? 'higher' : 'lower'} is better) with template ${goal.templateId}.`,
      `Round ${loop.iteration + 1}: propose exactly ${slots} new configuration(s). Runs left: ${goal.maxRuns - runs.length} of ${goal.maxRuns}.`,
      Object.keys(goal.fixed).length ? `Fixed values (not yours to set): ${Object.entries(goal.fixed).map(([k, v]) => `${k}=${v}`).join(' ')}` : '',
      'Parameters you may set (omitted ones keep their default):',
      ...params.map((p) => `- ${p.name} (${p.type}${p.default !== undefined ? `, default ${String(p.default)}` : ''}${p.min !== undefined ? `, min ${p.min}` : ''}${p.max !== undefined ? `, max ${p.max}` : ''}${p.choices ? `, one of ${p.choices.join('/')}` : ''}): ${p.help}`),
      'Runs so far:',
      history,
      best ? `Best so far: #${best.index + 1} with ${goal.metric} ${best.run.metric}.` : '',
    ].filter(Boolean).join('\n');
    const msg = await this.deps.gateway.create({
      system: RESEARCH_SYSTEM,
      messages: [{ role: 'user', content: text }],
      tools: [proposeTool(params, slots)],
      toolChoice: { type: 'tool', name: PROPOSE_TOOL },
      maxTokens: 1024,
    }, { conversationId: loop.conversationId, purpose: 'research' });
    const call = msg.content.find((b) => b.type === 'tool_use' && b.name === PROPOSE_TOOL);
    if (!call || call.type !== 'tool_use') return { runs: [], note: 'the model answered without proposing' };
    const parsed = PROPOSAL.safeParse(call.input);
    return parsed.success ? parsed.data : { runs: [], note: `the proposal was malformed: ${z.prettifyError(parsed.error).slice(0, 200)}` };
  }

  private async end(loop: LoopRow, status: 'done' | 'stopped' | 'failed', reason: string): Promise<void> {
    if (!this.deps.store.endLoop(loop.id, status, reason, this.deps.clock.now())) return;
    const goal = JSON.parse(loop.goal) as ResearchGoal;
    const runs = this.deps.store.runsForLoop(loop.id);
    const cost = this.deps.store.spendFor(loop.conversationId, 'research', loop.createdAt);
    const head = status === 'done' ? 'Research done' : status === 'stopped' ? 'Research stopped' : 'Research failed';
    this.deps.logger.info('research loop ended', { loopId: loop.id, status, runs: runs.length });
    const where = this.where(loop);
    await this.post(where, endReport({ goal, runs, head, reason, rounds: loop.iteration, cost: formatUsd(cost) }));
    if (runs.length) await this.postChart(loop, goal, runs, where);
  }

  /**
   * The end report's chart (each run's best value by run number, the target as a line) uploaded
   * into the loop's thread, where the poster takes files (Slack); elsewhere the text stands alone.
   * A chart that cannot be drawn or uploaded is logged and skipped: the report is already posted.
   */
  private async postChart(loop: LoopRow, goal: ResearchGoal, runs: RunRow[], where: ThreadRef): Promise<void> {
    const poster = this.deps.poster;
    if (!poster.postFile) return;
    const redact = (t: string): string => this.deps.registry.redact(t);
    try {
      const title = redact(`Research: ${goal.metric} ${targetText(goal)} on ${goal.templateId}, ${runs.length} run${runs.length === 1 ? '' : 's'}`);
      const bytes = await renderRunsChartPng(runValues(runs), {
        title, metric: redact(goal.metric), goal: goal.direction, target: goal.target, ...(this.deps.chartRenderer ? { renderer: this.deps.chartRenderer } : {}),
      });
      const filename = `research-${loop.id.slice(0, 8)}-${goal.metric.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}.png`;
      await poster.postFile(where, { filename, title, altText: redact(chartAltText(goal, runs)), bytes });
    } catch (e) {
      this.deps.logger.warn('research chart not posted', { loopId: loop.id, err: describeError(e) });
    }
  }
}
