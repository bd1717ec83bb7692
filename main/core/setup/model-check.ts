/**
 * The setup wizard's model check: the API key and the model name, asked of the model API's
 * models endpoint (free: no tokens are spent). The key itself never appears in a message.
 */
import Anthropic, { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import { DEFAULT_MODEL } from '../config/keys.js';
import { describeError } from '../errors.js';

export interface ModelCheckInput {
  apiKey: string | null;
  model: string;
  baseUrl?: string | undefined;
  timeoutMs?: number;
}

export interface ModelCheckResult {
  ok: boolean;
  message: string;
  fix: string | null;
}

export async function checkModel(input: ModelCheckInput): Promise<ModelCheckResult> {
  if (!input.apiKey) return { ok: false, message: 'No Anthropic API key is set.', fix: 'Paste a key from console.anthropic.com → API keys, or choose "commands only".' };
  const client = new Anthropic({ apiKey: input.apiKey, ...(input.baseUrl ? { baseURL: input.baseUrl } : {}), maxRetries: 0, timeout: input.timeoutMs ?? 15_000 });
  try {
    const info = await client.models.retrieve(input.model);
    const name = info.display_name && info.display_name !== input.model ? ` (${info.display_name})` : '';
    return { ok: true, message: `The API key works and the model ${input.model}${name} is available.`, fix: null };
  } catch (e) {
    if (e instanceof APIError && (e.status === 401 || e.status === 403)) {
      return { ok: false, message: `The model API refused the API key (HTTP ${e.status}).`, fix: 'Check that you pasted the whole key and that it is active in console.anthropic.com.' };
    }
    if (e instanceof APIError && e.status === 404) {
      return { ok: false, message: `The API key works, but there is no model called "${input.model}".`, fix: `Pick a model your key can use, for example ${DEFAULT_MODEL} (\`hpc-relay config set llm.model ${DEFAULT_MODEL}\`).` };
    }
    if (e instanceof APIConnectionError) {
      return { ok: false, message: `Could not reach the model API${input.baseUrl ? ` at ${input.baseUrl}` : ''}: ${describeError(e)}.`, fix: 'Check the network connection (and llm.baseUrl when you use a gateway).' };
    }
    return { ok: false, message: `The model check failed: ${describeError(e)}.`, fix: null };
  }
}
