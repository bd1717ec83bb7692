/**
 * Slack message text and Block Kit pieces. Anything that came from outside (job names, log lines,
 * error text) is escaped, so a log line saying `<!channel>` cannot ping a whole channel.
 */

import { readable } from '../text/readable.js';

export { readable };

/** Block Kit blocks as plain JSON (the Slack API validates them). */
export type Block = Record<string, unknown>;

export interface SlackReply {
  /** Notification and fallback text (and the whole message when there are no blocks). */
  text: string;
  blocks?: Block[];
}

/** Slack's three control characters in mrkdwn and plain text. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A ``` code block of readable text; backtick runs inside cannot close it. */
export function codeBlock(text: string): string {
  const body = escapeText(readable(text)).replace(/```/g, '`\u200b``');
  return `\`\`\`${body.length ? body : ' '}\`\`\``;
}

/** Inline code for a short value (readable, like a code block). */
export function code(text: string): string {
  return `\`${escapeText(readable(text)).replace(/`/g, "'")}\``;
}

/** Keeps the end of `text` within `max` characters (logs: the newest lines matter). */
export function keepTail(text: string, max: number): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  const cut = text.slice(text.length - max);
  const nl = cut.indexOf('\n');
  return { text: nl >= 0 && nl < 200 ? cut.slice(nl + 1) : cut, cut: true };
}

export function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** 3725 → "1h 02m 05s"; 59 → "59s"; null → "—". */
export function formatDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec) || sec < 0) return '—';
  const s = Math.round(sec);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (d > 0) return `${d}d ${String(h).padStart(2, '0')}h ${String(m).padStart(2, '0')}m`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(r).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** A fixed-width table for a code block: columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function section(mrkdwn: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clipText(mrkdwn, 3000) } };
}

export function context(mrkdwn: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clipText(mrkdwn, 3000) }] };
}

export interface ButtonSpec {
  text: string;
  actionId: string;
  value: string;
  style?: 'primary' | 'danger';
}

export function actions(blockId: string, buttons: readonly ButtonSpec[]): Block {
  return {
    type: 'actions',
    block_id: blockId,
    elements: buttons.map((b) => ({
      type: 'button',
      text: { type: 'plain_text', text: clipText(b.text, 75), emoji: true },
      action_id: b.actionId,
      value: b.value,
      ...(b.style ? { style: b.style } : {}),
    })),
  };
}
