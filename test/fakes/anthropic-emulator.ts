/**
 * A small Anthropic Messages API that speaks the real wire protocol, so the real
 * @anthropic-ai/sdk client is what tests exercise: `new Anthropic({ baseURL: emu.url, apiKey:
 * emu.apiKey, maxRetries: 0 })` posts to `${url}/v1/messages`. The key is accepted as
 * `x-api-key` or as `Authorization: Bearer` (how SDK 1.x sends an apiKey).
 *
 * Replies come from a script queue (text, tool_use, HTTP errors, a hang, a dropped connection);
 * a script may be a function of the recorded request, to answer based on the tool_result it
 * got. Requests are validated the way the API does it (key, version header, required fields,
 * tool_use ↔ tool_result pairing), answered as JSON or, with `stream: true`, as SSE.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Waiters, closeServer, isRecord, listenLocal, readBody, sendJson } from './emulator-util.js';
import { RecordingFile, defaultRecordingFile } from '../helpers/hostile-recordings.js';

type Json = Record<string, unknown>;

export interface UsageOverride {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ScriptedReply =
  /** An assistant text turn (`stop_reason` defaults to `end_turn`). */
  | { kind: 'text'; text: string; stopReason?: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'refusal'; usage?: UsageOverride }
  /** One or more tool calls (`stop_reason: 'tool_use'`), optionally after some text. */
  | { kind: 'tool_use'; calls: Array<{ name: string; input: unknown; id?: string }>; text?: string; usage?: UsageOverride }
  /** Any content blocks and stop reason, as given. */
  | { kind: 'message'; content: Json[]; stopReason: string; usage?: UsageOverride }
  /** An API error: `{type:'error', error:{type, message}}` with the matching status. */
  | { kind: 'error'; status: number; errorType?: string; message?: string; retryAfterSec?: number; headers?: Record<string, string> }
  /** Accept the request and never answer (the client's timeout fires; `close()` ends it). */
  | { kind: 'hang' }
  /** Drop the TCP connection without an answer. */
  | { kind: 'drop' };

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined if it did not parse). */
  body: Json | undefined;
  stream: boolean;
  time: number;
  /** HTTP status answered (0 for hang/drop). */
  status: number;
  /** What was answered (the message object, or the error body). */
  response: Json | undefined;
}

export type Script = ScriptedReply | ((req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);

export interface AnthropicEmulatorOptions {
  apiKey?: string;
  extraApiKeys?: string[];
  /** Characters per streamed text/JSON delta (default 8). */
  streamChunkChars?: number;
  /** The model ids GET /v1/models knows (default KNOWN_MODELS). */
  models?: string[];
  /**
   * Where every request body is appended as a JSON line (headers, with the key, are not), for the
   * secret scan that closes `npm test`. Default `<test homes root>/anthropic-emulator/<pid>-<port>.jsonl`;
   * null records nothing.
   */
  recordFile?: string | null;
}

export interface AnthropicEmulator {
  /** `http://127.0.0.1:<port>`: the SDK's `baseURL`. */
  readonly url: string;
  readonly apiKey: string;
  readonly requests: readonly RecordedRequest[];
  /** The JSON-lines file request bodies are appended to (see `recordFile`), or null. */
  readonly recordFile: string | null;
  /** Requests to POST /v1/messages only. */
  readonly messageRequests: readonly RecordedRequest[];
  /** Scripts still waiting in the queue. */
  readonly pending: number;
  /** Queue replies; each /v1/messages request takes the next one. */
  enqueue(...scripts: Script[]): void;
  /** Resolves with the first recorded request (past or future) that matches. */
  waitForRequest(predicate?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** Builders for scripts. */
export const reply = {
  text: (text: string, usage?: UsageOverride): ScriptedReply => ({ kind: 'text', text, ...(usage ? { usage } : {}) }),
  toolUse: (name: string, input: unknown, opts: { id?: string; text?: string } = {}): ScriptedReply => ({
    kind: 'tool_use',
    calls: [{ name, input, ...(opts.id ? { id: opts.id } : {}) }],
    ...(opts.text ? { text: opts.text } : {}),
  }),
  error: (status: number, opts: { errorType?: string; message?: string; retryAfterSec?: number } = {}): ScriptedReply => ({ kind: 'error', status, ...opts }),
  hang: (): ScriptedReply => ({ kind: 'hang' }),
  drop: (): ScriptedReply => ({ kind: 'drop' }),
};

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const DEFAULT_ERROR_MESSAGES: Record<string, string> = {
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function anthropicId(prefix: string): string {
  let s = `${prefix}01`;
  for (const b of randomBytes(22)) s += BASE62[b % 62];
  return s;
}

function estimateTokens(v: unknown): number {
  const text = typeof v === 'string' ? v : JSON.stringify(v ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The tool_result blocks in a request's last user message. */
export function toolResultsIn(body: Json | undefined): Array<{ tool_use_id: string; content: unknown; is_error: boolean }> {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const last: unknown = messages.at(-1);
  if (!isRecord(last) || last.role !== 'user' || !Array.isArray(last.content)) return [];
  return last.content
    .filter((b): b is Json => isRecord(b) && b.type === 'tool_result')
    .map((b) => ({ tool_use_id: String(b.tool_use_id), content: b.content, is_error: b.is_error === true }));
}

class InvalidRequest extends Error {}

/** The API's own checks of a Messages request that matter for a client. */
function validateMessagesBody(body: Json): void {
  if (typeof body.model !== 'string' || !body.model) throw new InvalidRequest('model: Field required');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw new InvalidRequest('max_tokens: Field required');
  }
  if (!Array.isArray(body.messages)) throw new InvalidRequest('messages: Field required');
  if (body.messages.length === 0) throw new InvalidRequest('messages: at least one message is required');
  const toolNames = new Set<string>();
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new InvalidRequest('tools: Input should be a valid list');
    body.tools.forEach((t, i) => {
      if (!isRecord(t) || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
        throw new InvalidRequest(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
      }
      if (t.type === undefined && !isRecord(t.input_schema)) throw new InvalidRequest(`tools.${i}.input_schema: Field required`);
      if (toolNames.has(t.name)) throw new InvalidRequest(`tools: Tool names must be unique.`);
      toolNames.add(t.name);
    });
  }
  let pendingToolUses: string[] = [];
  const messages: unknown[] = body.messages;
  messages.forEach((m, i) => {
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      throw new InvalidRequest(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    const blocks: unknown[] = typeof m.content === 'string' ? [] : Array.isArray(m.content) ? m.content : [null];
    if (typeof m.content === 'string' && m.content.length === 0 && !(m.role === 'assistant' && i === messages.length - 1)) {
      throw new InvalidRequest(`messages.${i}: user messages must have non-empty content`);
    }
    const results = blocks.filter((b): b is Json => isRecord(b) && b.type === 'tool_result').map((b) => String(b.tool_use_id));
    if (pendingToolUses.length) {
      const missing = pendingToolUses.filter((id) => !results.includes(id));
      if (m.role !== 'user' || missing.length) {
        throw new InvalidRequest(
          `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${(missing.length ? missing : pendingToolUses).join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    const unexpected = results.filter((id) => !pendingToolUses.includes(id));
    if (unexpected.length) {
      throw new InvalidRequest(
        `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
    }
    blocks.forEach((b, j) => {
      if (!isRecord(b) || typeof b.type !== 'string') throw new InvalidRequest(`messages.${i}.content.${j}.type: Field required`);
    });
    pendingToolUses = m.role === 'assistant'
      ? blocks.filter((b): b is Json => isRecord(b) && b.type === 'tool_use').map((b) => String(b.id))
      : [];
  });
}

/** Model ids the emulated models endpoint knows by default (the SDK's current names). */
export const KNOWN_MODELS = ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-4-6', 'claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'] as const;

/** `claude-sonnet-5-5` → `Claude Sonnet 5.5`. */
function displayName(id: string): string {
  const m = /^claude-([a-z]+)-(\d+)(?:-(\d{1,2}))?(?:-\d{8})?$/.exec(id);
  if (!m) return id;
  const family = `${(m[1] ?? '').charAt(0).toUpperCase()}${(m[1] ?? '').slice(1)}`;
  return `Claude ${family} ${m[2] ?? ''}${m[3] ? `.${m[3]}` : ''}`;
}

class AnthropicEmulatorImpl implements AnthropicEmulator {
  url = '';
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  private readonly keys: Set<string>;
  private readonly chunk: number;
  private readonly models: string[];
  private readonly queue: Script[] = [];
  private readonly waiters = new Waiters();
  private readonly hung = new Set<http.ServerResponse>();
  private readonly server: http.Server;
  private readonly recordOption: string | null | undefined;
  private recording = new RecordingFile(null);

  constructor(opts: AnthropicEmulatorOptions) {
    this.recordOption = opts.recordFile;
    this.apiKey = opts.apiKey ?? 'sk-ant-api03-emulated-key-0000000000';
    this.keys = new Set([this.apiKey, ...(opts.extraApiKeys ?? [])]);
    this.chunk = Math.max(1, opts.streamChunkChars ?? 8);
    this.models = opts.models ?? [...KNOWN_MODELS];
    this.server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.sendError(res, 500, 'api_error', `Anthropic emulator failed: ${String(e)}`);
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    this.url = await listenLocal(this.server);
    this.recording = new RecordingFile(this.recordOption === undefined ? defaultRecordingFile('anthropic-emulator', this.url) : this.recordOption);
  }

  get recordFile(): string | null {
    return this.recording.file;
  }

  get messageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(...scripts: Script[]): void {
    this.queue.push(...scripts);
  }

  waitForRequest(predicate: (r: RecordedRequest) => boolean = () => true, timeoutMs = 5000): Promise<RecordedRequest> {
    return this.waiters.wait(() => this.requests.find(predicate), timeoutMs, () => `a matching request; ${this.requests.length} so far`);
  }

  private sendError(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): Json {
    const body = { type: 'error', error: { type, message }, request_id: anthropicId('req_') };
    sendJson(res, status, body, { 'request-id': String(body.request_id), ...headers });
    return body;
  }

  private record(r: RecordedRequest): void {
    this.requests.push(r);
    this.waiters.notify();
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', this.url).pathname;
    // The body as sent (parsed or not); the key travels in a header and stays out of the record.
    if (raw.length > 0) this.recording.append({ kind: 'request', method: req.method ?? 'GET', path, body: raw.toString('utf8') });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    let body: Json | undefined;
    try {
      const parsed: unknown = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      body = isRecord(parsed) ? parsed : undefined;
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET', path, headers, body, stream: body?.stream === true, time: Date.now(), status: 0, response: undefined,
    };
    const fail = (status: number, type: string, message: string, extraHeaders: Record<string, string> = {}): void => {
      rec.status = status;
      rec.response = this.sendError(res, status, type, message, extraHeaders);
      this.record(rec);
    };

    const modelPath = /^\/v1\/models(?:\/([^/]+))?$/.exec(path);
    if (!(req.method === 'POST' && path === '/v1/messages') && !(req.method === 'GET' && modelPath)) {
      fail(404, 'not_found_error', `Not found: ${req.method ?? ''} ${path}`);
      return;
    }
    // The API takes the key as `x-api-key`; SDK 1.x sends it as `Authorization: Bearer <key>`.
    const bearer = headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
    const key = headers['x-api-key'] ?? bearer;
    if (!key || !this.keys.has(key)) {
      fail(401, 'authentication_error', headers['x-api-key'] !== undefined ? 'invalid x-api-key' : 'invalid bearer token');
      return;
    }
    if (modelPath) {
      // GET /v1/models/{model_id} (what a key check asks: free) and GET /v1/models (one page).
      const id = modelPath[1] === undefined ? undefined : decodeURIComponent(modelPath[1]);
      if (id !== undefined && !this.models.includes(id)) {
        fail(404, 'not_found_error', `model: ${id}`);
        return;
      }
      const info = (m: string): Json => ({ type: 'model', id: m, display_name: displayName(m), created_at: '2026-01-01T00:00:00Z' });
      const out: Json = id !== undefined ? info(id) : { data: this.models.map(info), has_more: false, first_id: this.models[0] ?? null, last_id: this.models.at(-1) ?? null };
      rec.status = 200;
      rec.response = out;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_emu_${this.requests.length + 1}` });
      res.end(JSON.stringify(out));
      this.record(rec);
      return;
    }
    if (!headers['anthropic-version']) {
      fail(400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }
    if (!body) {
      fail(400, 'invalid_request_error', 'There was an issue with the request body: it is not a JSON object');
      return;
    }
    try {
      validateMessagesBody(body);
    } catch (e) {
      if (!(e instanceof InvalidRequest)) throw e;
      fail(400, 'invalid_request_error', e.message);
      return;
    }

    const script = this.queue.shift();
    if (!script) {
      fail(500, 'api_error', 'Anthropic emulator: no scripted reply left for this request');
      return;
    }
    const scripted = typeof script === 'function' ? await script(rec) : script;
    switch (scripted.kind) {
      case 'hang':
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        this.record(rec);
        return;
      case 'drop':
        this.record(rec);
        req.socket.destroy();
        return;
      case 'error': {
        const type = scripted.errorType ?? ERROR_TYPES[scripted.status] ?? 'api_error';
        fail(scripted.status, type, scripted.message ?? DEFAULT_ERROR_MESSAGES[type] ?? type, {
          ...(scripted.retryAfterSec !== undefined ? { 'retry-after': String(scripted.retryAfterSec) } : {}),
          ...scripted.headers,
        });
        return;
      }
      default:
        break;
    }

    const { content, stopReason, usage } = this.buildMessage(scripted, body);
    const offered = new Set(Array.isArray(body.tools) ? body.tools.filter(isRecord).map((t) => String(t.name)) : []);
    const bad = content.find((b) => b.type === 'tool_use' && !offered.has(String(b.name)));
    if (bad) {
      fail(500, 'api_error', `Anthropic emulator: the script calls tool "${String(bad.name)}" which the request did not offer (offered: ${[...offered].join(', ') || 'none'})`);
      return;
    }
    const message: Json = {
      id: anthropicId('msg_'),
      type: 'message',
      role: 'assistant',
      model: body.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    };
    rec.status = 200;
    rec.response = message;
    const requestId = anthropicId('req_');
    if (rec.stream) this.stream(res, message, requestId);
    else sendJson(res, 200, message, { 'request-id': requestId });
    this.record(rec);
  }

  private buildMessage(s: Exclude<ScriptedReply, { kind: 'error' | 'hang' | 'drop' }>, body: Json): { content: Json[]; stopReason: string; usage: Json } {
    let content: Json[];
    let stopReason: string;
    switch (s.kind) {
      case 'text':
        content = [{ type: 'text', text: s.text }];
        stopReason = s.stopReason ?? 'end_turn';
        break;
      case 'tool_use':
        content = [
          ...(s.text ? [{ type: 'text', text: s.text }] : []),
          ...s.calls.map((c) => ({ type: 'tool_use', id: c.id ?? anthropicId('toolu_'), name: c.name, input: c.input })),
        ];
        stopReason = 'tool_use';
        break;
      case 'message':
        content = s.content;
        stopReason = s.stopReason;
        break;
    }
    const usage: Json = {
      input_tokens: s.usage?.input_tokens ?? estimateTokens([body.system, body.tools, body.messages]),
      output_tokens: s.usage?.output_tokens ?? estimateTokens(content),
      cache_creation_input_tokens: s.usage?.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: s.usage?.cache_read_input_tokens ?? 0,
      service_tier: 'standard',
    };
    return { content, stopReason, usage };
  }

  /** The Messages streaming format: message_start, content blocks with deltas, message_delta, message_stop. */
  private stream(res: http.ServerResponse, message: Json, requestId: string): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId });
    const send = (event: string, data: Json): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const usage = isRecord(message.usage) ? message.usage : {};
    send('message_start', {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    });
    send('ping', { type: 'ping' });
    const pieces = (text: string): string[] => {
      const out: string[] = [];
      for (let i = 0; i < text.length; i += this.chunk) out.push(text.slice(i, i + this.chunk));
      return out;
    };
    const blocks = Array.isArray(message.content) ? message.content.filter(isRecord) : [];
    blocks.forEach((block, index) => {
      if (block.type === 'text') {
        send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const p of pieces(String(block.text))) {
          send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } });
        }
      } else if (block.type === 'tool_use') {
        send('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } });
        for (const p of pieces(JSON.stringify(block.input ?? {}))) {
          send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } });
        }
      } else {
        send('content_block_start', { type: 'content_block_start', index, content_block: block });
      }
      send('content_block_stop', { type: 'content_block_stop', index });
    });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    this.waiters.failAll(new Error('Anthropic emulator closed'));
    await closeServer(this.server);
  }
}

export async function startAnthropicEmulator(opts: AnthropicEmulatorOptions = {}): Promise<AnthropicEmulator> {
  const emu = new AnthropicEmulatorImpl(opts);
  await emu.listen();
  return emu;
}
