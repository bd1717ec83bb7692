/**
 * Program output (job logs, scheduler text) as a reader should see it, wherever it is shown as
 * text: Slack code blocks and `hpc-relay tail` on a terminal.
 */

/** ANSI escape sequences: CSI (colours, cursor moves), OSC (window titles, links) and the two-character ones. */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b\n]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/gu;
/** Characters that show as nothing or reorder the text: control characters (not the line break or tab), bidi controls, zero-width spaces. */
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/gu;

/**
 * Program output as a reader should see it: ANSI escapes removed, a line redrawn with carriage
 * returns (progress bars) shown as it ended up, and what would be invisible or flip the text
 * (NUL, other controls, bidi overrides, zero-width spaces) written as `\u0000`.
 */
export function readable(text: string): string {
  return text.replace(ANSI_ESCAPE, '').split('\n').map((line) => {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    return l.slice(l.lastIndexOf('\r') + 1);
  }).join('\n').replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
