/**
 * The page of the prompt window: one question (a 2FA code, a passphrase), one field, OK and
 * Cancel. It is a data: URL, so it needs no file on disk and no bundler entry; its CSP allows
 * exactly its own inline script and style, by hash. The question arrives over IPC and is set as
 * text (never HTML: 2FA prompts are the server's own words). There is deliberately no <form>:
 * a form would submit the typed secret as a URL if the script ever failed.
 */
import { createHash } from 'node:crypto';

const style = `
:root { color-scheme: light dark; font: 13px system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0; padding: 16px 18px; display: flex; flex-direction: column; gap: 10px; }
h1 { font-size: 14px; margin: 0; }
p { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 120px; overflow: auto; }
input { font: inherit; padding: 6px 8px; }
.buttons { display: flex; justify-content: flex-end; gap: 8px; }
button { font: inherit; padding: 5px 14px; }
`;

const script = `
(() => {
  const api = window.hpc;
  const byId = (id) => document.getElementById(id);
  const input = byId('answer');
  const ok = byId('ok');
  const cancel = byId('cancel');
  let done = false;
  const answer = (value) => {
    if (done) return;
    done = true;
    input.disabled = ok.disabled = cancel.disabled = true;
    api.promptAnswer(value);
  };
  api.promptQuestion().then((result) => {
    if (!result.ok) return answer(null);
    const q = result.value;
    document.title = q.title;
    byId('title').textContent = q.title;
    byId('message').textContent = q.message;
    input.type = q.kind === 'secret' ? 'password' : 'text';
    input.disabled = ok.disabled = false;
    input.focus();
  }, () => answer(null));
  ok.addEventListener('click', () => answer(input.value));
  cancel.addEventListener('click', () => answer(null));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); answer(input.value); }
    else if (e.key === 'Escape') { e.preventDefault(); answer(null); }
  });
})();
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const csp = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>HPC Relay</title>
<style>${style}</style>
</head>
<body>
<h1 id="title"></h1>
<p id="message"></p>
<input id="answer" type="password" autocomplete="off" spellcheck="false" disabled>
<div class="buttons"><button id="cancel" type="button">Cancel</button><button id="ok" type="button" disabled>OK</button></div>
<script>${script}</script>
</body>
</html>`;

/** The prompt window's one and only page; the sender check compares against exactly this URL. */
export const PROMPT_PAGE_URL = `data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`;
