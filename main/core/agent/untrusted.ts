import type { SecretRegistry } from '../secrets/redact.js';

/**
 * Tool results are data from the cluster (logs, files, other people's job names), never
 * instructions. Each one reaches the model inside an envelope it is told to treat as data, with
 * anything in the text that could close or fake that envelope defused, secrets redacted and the
 * size capped. The envelope is advice to the model; the approval guard is what actually holds.
 */
export const UNTRUSTED_TAG = 'untrusted-data';

/** Most characters of one tool result sent to the model. */
export const MAX_TOOL_RESULT_CHARS = 12_000;

export function clip(text: string, max: number): { text: string; clipped: boolean } {
  if (text.length <= max) return { text, clipped: false };
  const head = Math.floor(max * 0.25);
  const tailLen = max - head;
  return { text: `${text.slice(0, head)}\n[… ${text.length - max} characters cut by HPC Relay …]\n${text.slice(text.length - tailLen)}`, clipped: true };
}

/** Makes `<untrusted-data` / `</untrusted-data` in the text inert (the model sees `<\u200buntrusted-data`). */
function defuse(text: string): string {
  return text.replace(/<(\/?)\s*untrusted-data/gi, '<$1\u200buntrusted-data');
}

export function wrapUntrusted(source: string, text: string, registry: SecretRegistry, max = MAX_TOOL_RESULT_CHARS): string {
  const body = defuse(clip(registry.redact(text), max).text);
  return `<${UNTRUSTED_TAG} source="${source.replace(/[^A-Za-z0-9_.:/ -]/g, '')}">\n${body}\n</${UNTRUSTED_TAG}>`;
}
