/**
 * What a model call costs, estimated from its token usage and a price table by model family.
 * Prices are published list prices in US dollars per million tokens; a dated snapshot or a
 * gateway's prefixed name (`anthropic/claude-sonnet-4-5`) is priced as its family.
 *
 * A model the table does not know is priced as the dearest family, on purpose: the monthly budget
 * is a promise that spending stops, and an unknown price must not let it run past the cap. The
 * usage report says when a fallback price was used, so the user can see why.
 */

export interface ModelPricing {
  family: string;
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

/**
 * Rows are tried in order: known older models with their own prices first, then the family a name
 * belongs to, priced at that family's current list price (a new `claude-sonnet-…` is counted as a
 * sonnet). A name of no known family gets FALLBACK_PRICING.
 */
const TABLE: Array<[RegExp, ModelPricing]> = [
  [/claude-opus-4(?:-1)?(?:-\d{8})?$|claude-3-opus/, { family: 'opus-4.1', inputPerMTok: 15, outputPerMTok: 75 }],
  [/claude-3-5-haiku/, { family: 'haiku-3.5', inputPerMTok: 0.8, outputPerMTok: 4 }],
  [/claude-3-haiku/, { family: 'haiku-3', inputPerMTok: 0.25, outputPerMTok: 1.25 }],
  [/opus/, { family: 'opus', inputPerMTok: 5, outputPerMTok: 25 }],
  [/sonnet/, { family: 'sonnet', inputPerMTok: 3, outputPerMTok: 15 }],
  [/haiku/, { family: 'haiku', inputPerMTok: 1, outputPerMTok: 5 }],
];

/** The price for models the table does not know: the dearest family (see the file comment). */
export const FALLBACK_PRICING: ModelPricing = { family: 'unknown (priced as opus)', inputPerMTok: 15, outputPerMTok: 75 };

/** Cache writes cost 1.25× input, cache reads 0.1× input (5-minute cache). */
const CACHE_WRITE = 1.25;
const CACHE_READ = 0.1;

export function pricingFor(model: string): { pricing: ModelPricing; fallback: boolean } {
  const m = model.toLowerCase();
  const hit = TABLE.find(([re]) => re.test(m));
  return hit ? { pricing: hit[1], fallback: false } : { pricing: FALLBACK_PRICING, fallback: true };
}

export function costUsd(model: string, u: TokenUsage): number {
  const { pricing: p } = pricingFor(model);
  const input = u.inputTokens * p.inputPerMTok + u.cacheCreationTokens * p.inputPerMTok * CACHE_WRITE + u.cacheReadTokens * p.inputPerMTok * CACHE_READ;
  return (input + u.outputTokens * p.outputPerMTok) / 1_000_000;
}

/** Rough tokens for text not yet sent (about 4 characters a token). */
export function roughTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return '< $0.01';
  return `$${usd.toFixed(2)}`;
}
