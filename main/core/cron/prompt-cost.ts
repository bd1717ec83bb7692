/**
 * What one run of a prompt monitor is likely to cost, shown when it is created and in `cron list`,
 * so "every 5m" with an agent prompt is a choice made knowingly (288 runs a day).
 */

import { pricingFor } from '../agent/pricing.js';

export interface ModelPrice {
  /** US dollars per million input tokens. */
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * The agent's price table (agent/pricing.ts) is the one source of prices; a model it does not know
 * has no estimate here (the agent itself counts such a model at the dearest price, for the budget).
 */
export function modelPrice(model: string): ModelPrice | undefined {
  const { pricing, fallback } = pricingFor(model);
  return fallback ? undefined : { inputPerMTok: pricing.inputPerMTok, outputPerMTok: pricing.outputPerMTok };
}

/** Assumptions behind the estimate: a monitoring prompt takes a few tool turns (squeue, tail, parse). */
export const COST_ASSUMPTIONS = {
  turns: 4,
  /** System prompt and tool definitions, re-sent each turn. */
  overheadTokens: 3000,
  /** Tool output (a log tail, squeue) added per turn. */
  toolResultTokens: 1500,
  outputTokensPerTurn: 400,
} as const;

export interface CostEstimate {
  model: string;
  /** Undefined when the model's price is unknown. */
  usd: number | undefined;
  inputTokens: number;
  outputTokens: number;
  /** "≈ $0.06 per run (claude-sonnet-4-5: ~4 turns, ~26k input + 1.6k output tokens)". */
  text: string;
}

/** Rough token count: about 4 characters a token for English prose. */
export function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimatePromptCost(prompt: string, model: string): CostEstimate {
  const a = COST_ASSUMPTIONS;
  let inputTokens = 0;
  for (let turn = 0; turn < a.turns; turn++) {
    // Every turn re-sends the conversation so far: prompt, earlier tool results and answers.
    inputTokens += a.overheadTokens + roughTokens(prompt) + turn * (a.toolResultTokens + a.outputTokensPerTurn);
  }
  const outputTokens = a.turns * a.outputTokensPerTurn;
  const price = modelPrice(model);
  const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : String(n));
  const basis = `${model}: ~${a.turns} turns, ~${k(inputTokens)} input + ${k(outputTokens)} output tokens`;
  if (!price) return { model, usd: undefined, inputTokens, outputTokens, text: `cost per run unknown (no price on file for ${basis})` };
  const usd = (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1_000_000;
  const shown = usd < 0.01 ? '< $0.01' : `≈ $${usd.toFixed(2)}`;
  return { model, usd, inputTokens, outputTokens, text: `${shown} per run (${basis})` };
}
