import type { SecretRegistry } from '../secrets/redact.js';
import type { Db, Migration } from './database.js';
import { migrateModule } from './module-migrations.js';

/**
 * The agent's tables (module "agent" in module_versions):
 * - agent_conversations: one per Slack thread (or terminal session): the message history sent to
 *   the model, and whether untrusted tool output is in it (`tainted`, see agent/policy.ts);
 * - agent_calls: every model call with its tokens and estimated cost (usage and the budget);
 * - agent_audit: every tool call, its input and output (redacted) and how it was decided;
 * - agent_jobs: jobs the agent launched (from a request or a research loop) and what became of them;
 * - agent_loops: research loops, resumable after a restart.
 * Every text column that can hold cluster output or model text is redacted on the way in.
 */
export const AGENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE agent_conversations (
        id TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL,
        thread_ts TEXT,
        messages TEXT NOT NULL DEFAULT '[]',
        tainted INTEGER NOT NULL DEFAULT 0,
        compressions INTEGER NOT NULL DEFAULT 0,
        last_input_tokens INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE agent_calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL,
        fallback_price INTEGER NOT NULL DEFAULT 0,
        at INTEGER NOT NULL
      );
      CREATE INDEX agent_calls_at ON agent_calls(at);
      CREATE INDEX agent_calls_conversation ON agent_calls(conversation_id);
      CREATE TABLE agent_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        conversation_id TEXT NOT NULL,
        loop_id TEXT,
        tool TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT NOT NULL,
        decision TEXT NOT NULL,
        approved_by TEXT,
        is_error INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX agent_audit_conversation ON agent_audit(conversation_id, id);
      CREATE TABLE agent_jobs (
        run_id TEXT PRIMARY KEY,
        job_id TEXT UNIQUE,
        conversation_id TEXT NOT NULL,
        loop_id TEXT,
        template_id TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        work_dir TEXT,
        status TEXT NOT NULL,
        final_state TEXT,
        metric REAL,
        metrics TEXT,
        launched_at INTEGER NOT NULL,
        finished_at INTEGER,
        summarized_at INTEGER
      );
      CREATE INDEX agent_jobs_loop ON agent_jobs(loop_id);
      CREATE TABLE agent_loops (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        thread_ts TEXT,
        goal TEXT NOT NULL,
        status TEXT NOT NULL,
        stop_reason TEXT,
        iteration INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX agent_loops_status ON agent_loops(status);
    `,
  },
];

export type CallPurpose = 'request' | 'summary' | 'research' | 'compress';
export type AuditDecision = 'auto' | 'approved' | 'denied' | 'invalid' | 'failed';
export type RunStatus = 'submitting' | 'running' | 'finished' | 'lost';
export type LoopStatus = 'running' | 'done' | 'stopped' | 'failed';

export interface ConversationRow {
  id: string;
  channelId: string;
  threadTs: string | null;
  /** The history as JSON (Anthropic MessageParam[]). */
  messages: string;
  tainted: boolean;
  compressions: number;
  lastInputTokens: number;
  createdAt: number;
  updatedAt: number;
}

export interface CallRow {
  conversationId: string;
  purpose: CallPurpose;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  costUsd: number;
  fallbackPrice: boolean;
  at: number;
}

export interface AuditRow {
  id?: number;
  at: number;
  conversationId: string;
  loopId: string | null;
  tool: string;
  input: string;
  output: string;
  decision: AuditDecision;
  approvedBy: string | null;
  isError: boolean;
}

export interface RunRow {
  runId: string;
  jobId: string | null;
  conversationId: string;
  loopId: string | null;
  templateId: string;
  params: Record<string, string | number | boolean>;
  workDir: string | null;
  status: RunStatus;
  finalState: string | null;
  metric: number | null;
  metrics: Record<string, number | null> | null;
  launchedAt: number;
  finishedAt: number | null;
  summarizedAt: number | null;
}

export interface LoopRow {
  id: string;
  conversationId: string;
  channelId: string;
  threadTs: string | null;
  /** JSON of the research goal. */
  goal: string;
  status: LoopStatus;
  stopReason: string | null;
  iteration: number;
  createdAt: number;
  updatedAt: number;
}

export interface SpendTotals {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  conversations: number;
  /** Calls priced with the fallback price (unknown model). */
  fallbackCalls: number;
}

export interface ConversationSpend {
  conversationId: string;
  usd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  lastAt: number;
}

type Raw = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export class AgentStore {
  constructor(readonly db: Db, private readonly registry: SecretRegistry) {
    migrateModule(db, 'agent', AGENT_MIGRATIONS);
  }

  private redact(text: string): string {
    return this.registry.redact(text);
  }

  // ---- conversations ----

  conversation(id: string): ConversationRow | null {
    const r = this.db.prepare<[string], Raw>('SELECT * FROM agent_conversations WHERE id = ?').get(id);
    if (!r) return null;
    return {
      id: str(r.id), channelId: str(r.channel_id), threadTs: strOrNull(r.thread_ts), messages: str(r.messages),
      tainted: num(r.tainted) === 1, compressions: num(r.compressions), lastInputTokens: num(r.last_input_tokens),
      createdAt: num(r.created_at), updatedAt: num(r.updated_at),
    };
  }

  ensureConversation(id: string, where: { channelId: string; threadTs?: string | undefined }, now: number): ConversationRow {
    this.db.prepare('INSERT OR IGNORE INTO agent_conversations (id, channel_id, thread_ts, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, where.channelId, where.threadTs ?? null, now, now);
    const row = this.conversation(id);
    if (!row) throw new Error(`conversation ${id} vanished`);
    return row;
  }

  saveConversation(c: { id: string; messages: unknown[]; tainted: boolean; compressions: number; lastInputTokens: number }, now: number): void {
    this.db.prepare('UPDATE agent_conversations SET messages = ?, tainted = ?, compressions = ?, last_input_tokens = ?, updated_at = ? WHERE id = ?')
      .run(this.redact(JSON.stringify(c.messages)), c.tainted ? 1 : 0, c.compressions, c.lastInputTokens, now, c.id);
  }

  // ---- model calls, usage, budget ----

  recordCall(c: CallRow): void {
    this.db.prepare(`INSERT INTO agent_calls (conversation_id, purpose, model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, fallback_price, at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(c.conversationId, c.purpose, c.model, c.inputTokens, c.outputTokens, c.cacheCreationTokens, c.cacheReadTokens, c.costUsd, c.fallbackPrice ? 1 : 0, c.at);
  }

  spendSince(sinceMs: number): SpendTotals {
    const r = this.db.prepare<[number], Raw>(`SELECT COALESCE(SUM(cost_usd), 0) AS usd, COALESCE(SUM(input_tokens + cache_creation_tokens + cache_read_tokens), 0) AS input,
      COALESCE(SUM(output_tokens), 0) AS output, COUNT(*) AS calls, COUNT(DISTINCT conversation_id) AS convs, COALESCE(SUM(fallback_price), 0) AS fallback
      FROM agent_calls WHERE at >= ?`).get(sinceMs) ?? {};
    return { usd: num(r.usd), inputTokens: num(r.input), outputTokens: num(r.output), calls: num(r.calls), conversations: num(r.convs), fallbackCalls: num(r.fallback) };
  }

  spendByConversation(sinceMs: number, limit = 50): ConversationSpend[] {
    return this.db.prepare<[number, number], Raw>(`SELECT conversation_id, SUM(cost_usd) AS usd, SUM(input_tokens + cache_creation_tokens + cache_read_tokens) AS input,
      SUM(output_tokens) AS output, COUNT(*) AS calls, MAX(at) AS last_at
      FROM agent_calls WHERE at >= ? GROUP BY conversation_id ORDER BY usd DESC, last_at DESC LIMIT ?`).all(sinceMs, limit)
      .map((r) => ({ conversationId: str(r.conversation_id), usd: num(r.usd), inputTokens: num(r.input), outputTokens: num(r.output), calls: num(r.calls), lastAt: num(r.last_at) }));
  }

  /** Dollars spent on one conversation's calls of one purpose since a time (a research loop's cost). */
  spendFor(conversationId: string, purpose: CallPurpose, sinceMs: number): number {
    const r = this.db.prepare<[string, string, number], Raw>('SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM agent_calls WHERE conversation_id = ? AND purpose = ? AND at >= ?').get(conversationId, purpose, sinceMs);
    return num(r?.usd);
  }

  calls(conversationId: string): CallRow[] {
    return this.db.prepare<[string], Raw>('SELECT * FROM agent_calls WHERE conversation_id = ? ORDER BY id').all(conversationId).map((r) => ({
      conversationId: str(r.conversation_id), purpose: str(r.purpose) as CallPurpose, model: str(r.model), inputTokens: num(r.input_tokens), outputTokens: num(r.output_tokens),
      cacheCreationTokens: num(r.cache_creation_tokens), cacheReadTokens: num(r.cache_read_tokens), costUsd: num(r.cost_usd), fallbackPrice: num(r.fallback_price) === 1, at: num(r.at),
    }));
  }

  // ---- audit ----

  audit(a: AuditRow): void {
    this.db.prepare('INSERT INTO agent_audit (at, conversation_id, loop_id, tool, input, output, decision, approved_by, is_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.at, a.conversationId, a.loopId, a.tool, this.redact(a.input), this.redact(a.output), a.decision, a.approvedBy, a.isError ? 1 : 0);
  }

  auditLog(filter: { conversationId?: string; loopId?: string } = {}): AuditRow[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.conversationId !== undefined) { where.push('conversation_id = ?'); args.push(filter.conversationId); }
    if (filter.loopId !== undefined) { where.push('loop_id = ?'); args.push(filter.loopId); }
    const sql = `SELECT * FROM agent_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return this.db.prepare<string[], Raw>(sql).all(...args).map((r) => ({
      id: num(r.id), at: num(r.at), conversationId: str(r.conversation_id), loopId: strOrNull(r.loop_id), tool: str(r.tool), input: str(r.input), output: str(r.output),
      decision: str(r.decision) as AuditDecision, approvedBy: strOrNull(r.approved_by), isError: num(r.is_error) === 1,
    }));
  }

  // ---- launched jobs ----

  private toRun(r: Raw): RunRow {
    return {
      runId: str(r.run_id), jobId: strOrNull(r.job_id), conversationId: str(r.conversation_id), loopId: strOrNull(r.loop_id), templateId: str(r.template_id),
      params: parseJson(r.params, {}), workDir: strOrNull(r.work_dir), status: str(r.status) as RunStatus, finalState: strOrNull(r.final_state),
      metric: numOrNull(r.metric), metrics: parseJson<Record<string, number | null> | null>(r.metrics, null),
      launchedAt: num(r.launched_at), finishedAt: numOrNull(r.finished_at), summarizedAt: numOrNull(r.summarized_at),
    };
  }

  /** Records a run before sbatch is called, so a crash in between leaves a trace (status `submitting`). */
  addRun(r: { runId: string; conversationId: string; loopId: string | null; templateId: string; params: Record<string, string | number | boolean> }, now: number): void {
    this.db.prepare("INSERT INTO agent_jobs (run_id, conversation_id, loop_id, template_id, params, status, launched_at) VALUES (?, ?, ?, ?, ?, 'submitting', ?)")
      .run(r.runId, r.conversationId, r.loopId, r.templateId, this.redact(JSON.stringify(r.params)), now);
  }

  runSubmitted(runId: string, jobId: string, workDir: string | null, params: Record<string, string | number | boolean>): void {
    this.db.prepare("UPDATE agent_jobs SET job_id = ?, work_dir = ?, params = ?, status = 'running' WHERE run_id = ?").run(jobId, workDir, this.redact(JSON.stringify(params)), runId);
  }

  runFailedToSubmit(runId: string, why: string, now: number): void {
    this.db.prepare("UPDATE agent_jobs SET status = 'finished', final_state = ?, finished_at = ?, summarized_at = ? WHERE run_id = ?")
      .run(this.redact(`SUBMIT_FAILED: ${why}`).slice(0, 500), now, now, runId);
  }

  runByJob(jobId: string): RunRow | null {
    const r = this.db.prepare<[string], Raw>('SELECT * FROM agent_jobs WHERE job_id = ?').get(jobId);
    return r ? this.toRun(r) : null;
  }

  runsForLoop(loopId: string): RunRow[] {
    return this.db.prepare<[string], Raw>('SELECT * FROM agent_jobs WHERE loop_id = ? ORDER BY launched_at, rowid').all(loopId).map((r) => this.toRun(r));
  }

  /** Marks the run finished; false when it already was (a repeated event). */
  finishRun(jobId: string, finalState: string, metric: number | null, metrics: Record<string, number | null> | null, now: number): boolean {
    const r = this.db.prepare("UPDATE agent_jobs SET status = 'finished', final_state = ?, metric = ?, metrics = ?, finished_at = ? WHERE job_id = ? AND status != 'finished'")
      .run(finalState, metric, metrics ? JSON.stringify(metrics) : null, now, jobId);
    return r.changes === 1;
  }

  /** Claims the one end-of-job summary for this job: true exactly once. */
  claimSummary(jobId: string, now: number): boolean {
    return this.db.prepare('UPDATE agent_jobs SET summarized_at = ? WHERE job_id = ? AND summarized_at IS NULL').run(now, jobId).changes === 1;
  }

  /** Runs recorded as `submitting` whose sbatch never answered (a crash in between): marked lost. */
  markLostSubmissions(now: number): number {
    return this.db.prepare("UPDATE agent_jobs SET status = 'lost', finished_at = ?, final_state = 'LOST' WHERE status = 'submitting' AND job_id IS NULL").run(now).changes;
  }

  // ---- research loops ----

  private toLoop(r: Raw): LoopRow {
    return {
      id: str(r.id), conversationId: str(r.conversation_id), channelId: str(r.channel_id), threadTs: strOrNull(r.thread_ts), goal: str(r.goal),
      status: str(r.status) as LoopStatus, stopReason: strOrNull(r.stop_reason), iteration: num(r.iteration), createdAt: num(r.created_at), updatedAt: num(r.updated_at),
    };
  }

  createLoop(l: Omit<LoopRow, 'status' | 'stopReason' | 'iteration' | 'updatedAt'>): void {
    this.db.prepare("INSERT INTO agent_loops (id, conversation_id, channel_id, thread_ts, goal, status, iteration, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'running', 0, ?, ?)")
      .run(l.id, l.conversationId, l.channelId, l.threadTs, this.redact(l.goal), l.createdAt, l.createdAt);
  }

  loop(id: string): LoopRow | null {
    const r = this.db.prepare<[string], Raw>('SELECT * FROM agent_loops WHERE id = ?').get(id);
    return r ? this.toLoop(r) : null;
  }

  loops(status?: LoopStatus): LoopRow[] {
    const rows = status
      ? this.db.prepare<[string], Raw>('SELECT * FROM agent_loops WHERE status = ? ORDER BY created_at').all(status)
      : this.db.prepare<[], Raw>('SELECT * FROM agent_loops ORDER BY created_at').all();
    return rows.map((r) => this.toLoop(r));
  }

  runningLoopFor(conversationId: string): LoopRow | null {
    const r = this.db.prepare<[string], Raw>("SELECT * FROM agent_loops WHERE conversation_id = ? AND status = 'running' ORDER BY created_at DESC LIMIT 1").get(conversationId);
    return r ? this.toLoop(r) : null;
  }

  setLoopIteration(id: string, iteration: number, now: number): void {
    this.db.prepare('UPDATE agent_loops SET iteration = ?, updated_at = ? WHERE id = ?').run(iteration, now, id);
  }

  /** Ends a running loop; false when it had already ended (so only one final report is posted). */
  endLoop(id: string, status: Exclude<LoopStatus, 'running'>, reason: string, now: number): boolean {
    return this.db.prepare("UPDATE agent_loops SET status = ?, stop_reason = ?, updated_at = ? WHERE id = ? AND status = 'running'").run(status, this.redact(reason), now, id).changes === 1;
  }
}
