import type { AssistantMessageParam, ContentBlock, ContentBlockParam, ToolResultBlockParam, UserMessageParam } from '@anthropic-ai/sdk/resources/messages';

/** One turn of a conversation (the API's user and assistant message params). */
export type Turn = UserMessageParam | AssistantMessageParam;
type MessageParam = Turn;

/**
 * A conversation's history and the rules that keep it valid for the Messages API: every tool_use
 * in an assistant turn is answered by a tool_result in the next user turn, and nothing else
 * refers across that boundary. Compression cuts only at a user turn that holds no tool_result
 * (a person's message), so no pair is ever split; when no such cut is possible it shortens old
 * tool outputs in place instead.
 */

/** The response's blocks as request params (only text and tool_use are kept; we use no thinking). */
export function assistantParams(content: readonly ContentBlock[]): ContentBlockParam[] {
  const out: ContentBlockParam[] = [];
  for (const b of content) {
    if (b.type === 'text') { if (b.text) out.push({ type: 'text', text: b.text }); }
    else if (b.type === 'tool_use') out.push({ type: 'tool_use', id: b.id, name: b.name, input: b.input });
  }
  return out;
}

function blocks(m: MessageParam): ContentBlockParam[] {
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : [...m.content];
}

export function hasToolResult(m: MessageParam): boolean {
  return m.role === 'user' && typeof m.content !== 'string' && m.content.some((b) => b.type === 'tool_result');
}

/** Appends user content, merging into a trailing user turn (the API wants turns to alternate). */
export function appendUser(history: MessageParam[], content: ContentBlockParam[]): void {
  const last = history.at(-1);
  if (last?.role === 'user') {
    history[history.length - 1] = { role: 'user', content: [...blocks(last), ...content] };
  } else {
    history.push({ role: 'user', content });
  }
}

/**
 * Makes a stored history safe to send again: an assistant turn whose tool calls never got results
 * (the relay stopped in between) gets results saying so; an empty assistant turn is dropped.
 */
export function repairHistory(history: MessageParam[]): MessageParam[] {
  const out = history.filter((m) => !(m.role === 'assistant' && blocks(m).length === 0));
  const last = out.at(-1);
  if (last?.role === 'assistant') {
    const ids = blocks(last).flatMap((b) => (b.type === 'tool_use' ? [b.id] : []));
    if (ids.length) {
      out.push({
        role: 'user',
        content: ids.map((id): ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: id, is_error: true, content: 'Interrupted: the relay stopped while this call was pending. Whether it ran is unknown; check before repeating it.' })),
      });
    }
  }
  return out;
}

/** Characters the history takes when sent (a cheap, monotone stand-in for tokens). */
export function historyChars(history: readonly MessageParam[]): number {
  return JSON.stringify(history).length;
}

/**
 * Indexes where the history may be cut so that history.slice(i) starts with a person's message:
 * a user turn without tool results (index 0 excluded: cutting there removes nothing).
 */
export function cutPoints(history: readonly MessageParam[]): number[] {
  const out: number[] = [];
  history.forEach((m, i) => { if (i > 0 && m.role === 'user' && !hasToolResult(m)) out.push(i); });
  return out;
}

/**
 * The cut that keeps as much recent history as fits in `keepChars`, but always at least the last
 * person's message and what followed it; null when there is nothing older to summarise.
 */
export function chooseCut(history: readonly MessageParam[], keepChars: number): number | null {
  const points = cutPoints(history);
  if (points.length === 0) return null;
  let chosen = points[points.length - 1] ?? null;
  for (let k = points.length - 2; k >= 0; k--) {
    const p = points[k];
    if (p === undefined || historyChars(history.slice(p)) > keepChars) break;
    chosen = p;
  }
  return chosen;
}

/** Replaces a summary of history.slice(0, cut) for those turns, in front of the turns kept. */
export function applySummary(history: readonly MessageParam[], cut: number, summary: string): MessageParam[] {
  const kept = history.slice(cut);
  const first = kept[0];
  if (!first) return [{ role: 'user', content: summaryText(summary) }];
  return [{ role: 'user', content: [{ type: 'text', text: summaryText(summary) }, ...blocks(first)] }, ...kept.slice(1)];
}

function summaryText(summary: string): string {
  return `<conversation-summary>\nEarlier turns of this conversation, summarised to save context:\n${summary}\n</conversation-summary>`;
}

/** Shortens the content of all but the last `keepLast` tool results (pairs stay intact). */
export function elideToolResults(history: readonly MessageParam[], keepLast: number, maxChars = 400): MessageParam[] {
  let seen = 0;
  const total = history.reduce((n, m) => n + (typeof m.content === 'string' ? 0 : m.content.filter((b) => b.type === 'tool_result').length), 0);
  return history.map((m) => {
    if (!hasToolResult(m)) return m;
    return {
      role: 'user',
      content: blocks(m).map((b) => {
        if (b.type !== 'tool_result') return b;
        seen++;
        if (total - seen < keepLast) return b;
        const text = typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
        if (text.length <= maxChars) return b;
        return { ...b, content: `${text.slice(0, maxChars)}\n[… output elided to save context; call the tool again if you need it …]` };
      }),
    };
  });
}

/** The history as plain text for the summariser (tool calls and results marked as such). */
export function transcript(history: readonly MessageParam[], maxResultChars = 2000): string {
  const lines: string[] = [];
  for (const m of history) {
    for (const b of blocks(m)) {
      if (b.type === 'text') lines.push(`${m.role === 'user' ? 'USER' : 'ASSISTANT'}: ${b.text}`);
      else if (b.type === 'tool_use') lines.push(`ASSISTANT called ${b.name} ${JSON.stringify(b.input)}`);
      else if (b.type === 'tool_result') {
        const text = typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
        lines.push(`TOOL RESULT${b.is_error ? ' (error)' : ''}: ${text.length > maxResultChars ? `${text.slice(0, maxResultChars)} […]` : text}`);
      }
    }
  }
  return lines.join('\n');
}
