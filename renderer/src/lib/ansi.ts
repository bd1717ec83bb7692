/**
 * Log lines as a terminal would show them, as plain text: ANSI escape sequences (colours, cursor
 * moves, window titles) removed, a carriage return keeping only what was written after it (how
 * progress bars redraw a line), other control characters and bidirectional overrides dropped.
 * The result is still untrusted text: it is rendered as a React text node, never as HTML.
 */

// CSI (ESC [ … final byte, and the 8-bit CSI), OSC (ESC ] … BEL or ESC \), other two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[P^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]|\u001b/g;
// C0 controls except tab, DEL, C1 controls, and the bidi overrides that make text read differently than it is.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripAnsi(line: string): string {
  let s = line.replace(ANSI, '');
  // A trailing "\r" is a CRLF line end; any other keeps what was written after the last one.
  if (s.endsWith('\r')) s = s.slice(0, -1);
  const cr = s.lastIndexOf('\r');
  if (cr !== -1) s = s.slice(cr + 1);
  return s.replace(CONTROL, '');
}

/** Splits new output onto what came before: complete lines, and the unfinished last one. */
export function appendOutput(carry: string, chunk: string): { lines: string[]; carry: string } {
  const text = carry + chunk;
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.map(stripAnsi), carry: rest };
}
