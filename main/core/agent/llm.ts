import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { RelayError, describeError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import type { AgentStore, CallPurpose } from '../store/agent-store.js';
import type { AgentSettings } from './ports.js';
import { costUsd, formatUsd, pricingFor, roughTokens } from './pricing.js';

/**
 * Every model call goes through here: the budget is checked before it, transient failures (429,
 * 5xx, 529, a dropped or timed-out connection) are retried with backoff, and what it cost is
 * recorded after it. The SDK's own retries are off (maxRetries 0) so that this is the one place
 * that decides, and the budget check sees every attempt.
 */
export interface ModelRequest {
  system: string;
  messages: MessageCreateParamsNonStreaming['messages'];
  tools?: MessageCreateParamsNonStreaming['tools'];
  toolChoice?: MessageCreateParamsNonStreaming['tool_choice'];
  maxTokens?: number;
}

export interface ModelCallContext {
  conversationId: string;
  purpose: CallPurpose;
}

export interface ModelGatewayOptions {
  /** Attempts after the first for 429/5xx/connection failures (default 3). */
  retries?: number;
  /** First backoff; doubles per attempt (default 1000 ms). A retry-after header wins, up to maxBackoffMs. */
  retryBaseMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (default 120 s). */
  timeoutMs?: number;
  /** max_tokens when the request does not say (default 4096). */
  maxTokens?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ModelGatewayDeps {
  store: AgentStore;
  settings: () => AgentSettings;
  apiKey: () => Promise<string | null>;
  clock: Clock;
  logger: Logger;
  options?: ModelGatewayOptions;
}

export interface BudgetStatus {
  spentUsd: number;
  budgetUsd: number;
  monthStart: number;
  /** "July 2026". */
  monthName: string;
  /** "August 1". */
  resetsOn: string;
}

/** The first millisecond of the local calendar month holding `now`. */
export function monthStart(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), 1).getTime();
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function retryAfterMs(e: APIError): number | null {
  const h = e.headers;
  if (!h) return null;
  const ms = Number(h.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const s = Number(h.get('retry-after'));
  if (Number.isFinite(s) && s > 0) return s * 1000;
  return null;
}

/** The API's own sentence from an error body, without the SDK's "429 {json}" prefix. */
function apiMessage(e: APIError): string {
  const body = e.error as { error?: { message?: unknown } } | undefined;
  const m = body?.error?.message;
  return typeof m === 'string' ? m : e.message;
}

function isTransient(e: unknown): boolean {
  if (e instanceof APIUserAbortError) return false;
  if (e instanceof APIConnectionError) return true;
  return e instanceof APIError && (e.status === 429 || e.status === 408 || (typeof e.status === 'number' && e.status >= 500));
}

export class ModelGateway {
  private client: { key: string; client: Anthropic } | null = null;
  private readonly opts: Required<Omit<ModelGatewayOptions, 'sleep'>> & { sleep: (ms: number) => Promise<void> };

  constructor(private readonly deps: ModelGatewayDeps) {
    const o = deps.options ?? {};
    this.opts = {
      retries: o.retries ?? 3,
      retryBaseMs: o.retryBaseMs ?? 1000,
      maxBackoffMs: o.maxBackoffMs ?? 60_000,
      timeoutMs: o.timeoutMs ?? 120_000,
      maxTokens: o.maxTokens ?? 4096,
      sleep: o.sleep ?? sleepReal,
    };
  }

  budget(): BudgetStatus {
    const now = this.deps.clock.now();
    const start = monthStart(now);
    const d = new Date(start);
    const next = new Date(d.getFullYear(), d.getMonth() + 1, 1);
    return {
      spentUsd: this.deps.store.spendSince(start).usd,
      budgetUsd: this.deps.settings().monthlyBudgetUsd,
      monthStart: start,
      monthName: d.toLocaleString('en-US', { month: 'long', year: 'numeric' }),
      resetsOn: next.toLocaleString('en-US', { month: 'long', day: 'numeric' }),
    };
  }

  /** Throws AGENT_BUDGET_EXHAUSTED when this call (estimated from its size) would pass the monthly budget. */
  checkBudget(req: ModelRequest): void {
    const b = this.budget();
    const model = this.deps.settings().model;
    const chars = req.system.length + JSON.stringify(req.messages).length + JSON.stringify(req.tools ?? []).length;
    const estimate = costUsd(model, { inputTokens: roughTokens(chars), outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 });
    const raise = `Raise it with \`hpc-relay config set llm.monthlyBudgetUsd ${Math.max(10, Math.ceil(b.budgetUsd * 2))}\`, or wait until it resets on ${b.resetsOn}.`;
    if (b.spentUsd >= b.budgetUsd) {
      throw new RelayError('AGENT_BUDGET_EXHAUSTED', `The agent's monthly budget is used up: ${formatUsd(b.spentUsd)} of ${formatUsd(b.budgetUsd)} spent in ${b.monthName}. Nothing was sent to the model.`, { fix: raise });
    }
    if (b.spentUsd + estimate > b.budgetUsd) {
      throw new RelayError('AGENT_BUDGET_EXHAUSTED', `This would go over the agent's monthly budget: ${formatUsd(b.spentUsd)} of ${formatUsd(b.budgetUsd)} spent in ${b.monthName}, and this call alone is about ${formatUsd(estimate)}. Nothing was sent to the model.`, { fix: raise });
    }
  }

  private async anthropic(): Promise<Anthropic> {
    const key = await this.deps.apiKey();
    if (!key) {
      throw new RelayError('AGENT_NOT_ENABLED', 'The agent has no Anthropic API key.', {
        fix: 'Set one with `hpc-relay secrets set anthropic-api-key` (or HPC_RELAY_ANTHROPIC_API_KEY), then `hpc-relay config set llm.enabled true`.',
      });
    }
    const baseURL = this.deps.settings().baseUrl;
    const cacheKey = `${baseURL ?? ''}\n${key}`;
    if (this.client?.key !== cacheKey) {
      this.client = { key: cacheKey, client: new Anthropic({ apiKey: key, ...(baseURL ? { baseURL } : {}), maxRetries: 0, timeout: this.opts.timeoutMs }) };
    }
    return this.client.client;
  }

  async create(req: ModelRequest, ctx: ModelCallContext): Promise<Message> {
    const settings = this.deps.settings();
    const client = await this.anthropic();
    const body: MessageCreateParamsNonStreaming = {
      model: settings.model,
      max_tokens: req.maxTokens ?? this.opts.maxTokens,
      system: req.system,
      messages: req.messages,
      ...(req.tools && req.tools.length > 0 ? { tools: req.tools } : {}),
      ...(req.toolChoice ? { tool_choice: req.toolChoice } : {}),
    };
    let attempt = 0;
    for (;;) {
      this.checkBudget(req);
      try {
        const msg = await client.messages.create(body);
        this.record(msg, settings.model, ctx);
        return msg;
      } catch (e) {
        if (!isTransient(e) || attempt >= this.opts.retries) throw this.explain(e, attempt);
        const wait = Math.min(this.opts.maxBackoffMs, (e instanceof APIError ? retryAfterMs(e) : null) ?? this.opts.retryBaseMs * 2 ** attempt);
        attempt++;
        this.deps.logger.warn('model call failed, retrying', { attempt, waitMs: wait, status: e instanceof APIError ? e.status : undefined, err: describeError(e).slice(0, 200) });
        await this.opts.sleep(wait);
      }
    }
  }

  private record(msg: Message, model: string, ctx: ModelCallContext): void {
    const u = msg.usage;
    const usage = {
      inputTokens: u.input_tokens,
      outputTokens: u.output_tokens,
      cacheCreationTokens: u.cache_creation_input_tokens ?? 0,
      cacheReadTokens: u.cache_read_input_tokens ?? 0,
    };
    this.deps.store.recordCall({
      conversationId: ctx.conversationId,
      purpose: ctx.purpose,
      model,
      ...usage,
      costUsd: costUsd(model, usage),
      fallbackPrice: pricingFor(model).fallback,
      at: this.deps.clock.now(),
    });
  }

  /** A RelayError whose sentence says what happened and what to do. */
  private explain(e: unknown, retried: number): RelayError {
    if (e instanceof RelayError) return e;
    const tries = retried > 0 ? ` (tried ${retried + 1} times)` : '';
    if (e instanceof APIConnectionError) {
      const what = e.name === 'APIConnectionTimeoutError' ? 'did not answer in time' : 'could not be reached';
      return new RelayError('AGENT_MODEL_UNAVAILABLE', `The model API ${what}${tries}; nothing was done.`, {
        fix: 'Check the network (and llm.baseUrl if you set one), then ask again.',
        cause: e,
      });
    }
    if (e instanceof APIError) {
      const s = e.status;
      if (s === 429) {
        return new RelayError('AGENT_MODEL_UNAVAILABLE', `The model API is rate-limiting this key (HTTP 429)${tries}; nothing was done.`, { fix: 'Ask again in a minute.', cause: e });
      }
      if (typeof s === 'number' && s >= 500) {
        return new RelayError('AGENT_MODEL_UNAVAILABLE', `The model API is failing (HTTP ${s}: ${apiMessage(e).slice(0, 160)})${tries}; nothing was done.`, { fix: 'Ask again in a few minutes; https://status.anthropic.com says whether it is down.', cause: e });
      }
      if (s === 401 || s === 403) {
        return new RelayError('AGENT_MODEL_REFUSED', `The model API refused the API key (HTTP ${s}).`, { fix: 'Set a valid key with `hpc-relay secrets set anthropic-api-key`.', cause: e });
      }
      if (s === 404) {
        return new RelayError('AGENT_MODEL_REFUSED', `The model API does not know model "${this.deps.settings().model}" (HTTP 404: ${apiMessage(e).slice(0, 160)}).`, { fix: 'Set another with `hpc-relay config set llm.model NAME`.', cause: e });
      }
      return new RelayError('AGENT_MODEL_REFUSED', `The model API refused the request (HTTP ${s ?? '?'}: ${apiMessage(e).slice(0, 200)}).`, { cause: e });
    }
    return new RelayError('AGENT_MODEL_UNAVAILABLE', `The model call failed: ${describeError(e).slice(0, 200)}.`, { cause: e });
  }
}
