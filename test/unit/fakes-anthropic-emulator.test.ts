import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { afterEach, describe, expect, it } from 'vitest';
import { reply, startAnthropicEmulator, toolResultsIn } from '../fakes/anthropic-emulator.js';
import type { AnthropicEmulator } from '../fakes/anthropic-emulator.js';

const MODEL = 'claude-emulated-1';

const SQUEUE_TOOL: Tool = {
  name: 'squeue',
  description: 'List the SLURM jobs of a user',
  input_schema: { type: 'object', properties: { user: { type: 'string' } }, required: ['user'] },
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(clientOpts: ConstructorParameters<typeof Anthropic>[0] = {}): Promise<{ emu: AnthropicEmulator; client: Anthropic }> {
  const emu = await startAnthropicEmulator();
  cleanups.push(() => emu.close());
  const client = new Anthropic({ baseURL: emu.url, apiKey: emu.apiKey, maxRetries: 0, ...clientOpts });
  return { emu, client };
}

function ask(text: string): MessageParam[] {
  return [{ role: 'user', content: text }];
}

describe('Anthropic emulator with the real SDK', () => {
  it('answers a scripted text reply in the Messages shape, and records the request', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.text('Job 42 is running on node gpu07.', { input_tokens: 31, output_tokens: 12 }));
    const msg = await client.messages.create({ model: MODEL, max_tokens: 256, system: 'You are the relay.', messages: ask('what is job 42 doing?') });
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'end_turn',
      stop_sequence: null,
      content: [{ type: 'text', text: 'Job 42 is running on node gpu07.' }],
      usage: { input_tokens: 31, output_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
    expect(msg.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    const [req] = emu.messageRequests;
    expect(req?.body).toMatchObject({ model: MODEL, max_tokens: 256, system: 'You are the relay.', messages: ask('what is job 42 doing?') });
    // SDK 1.x sends the API key as a bearer token.
    expect(req?.headers.authorization).toBe(`Bearer ${emu.apiKey}`);
    expect(req?.headers['anthropic-version']).toEqual(expect.any(String));
    expect(emu.pending).toBe(0);
  });

  it('estimates usage when the script does not give it', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.text('ok'));
    const msg = await client.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x'.repeat(400)) });
    expect(msg.usage.input_tokens).toBeGreaterThanOrEqual(100);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
  });

  it('tool_use round trip: the script answers from the tool_result the client sent back', async () => {
    const { emu, client } = await setup();
    emu.enqueue(
      reply.toolUse('squeue', { user: 'ada' }, { text: 'Let me look.' }),
      (req) => {
        const [result] = toolResultsIn(req.body);
        return reply.text(`You have ${String(result?.content)} jobs.`);
      },
    );
    const messages: MessageParam[] = ask('how many jobs do I have?');
    const first = await client.messages.create({ model: MODEL, max_tokens: 512, tools: [SQUEUE_TOOL], messages });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content[0]).toMatchObject({ type: 'text', text: 'Let me look.' });
    const call = first.content[1];
    if (call?.type !== 'tool_use') throw new Error(`expected a tool_use block, got ${JSON.stringify(call)}`);
    expect(call).toMatchObject({ name: 'squeue', input: { user: 'ada' } });
    expect(call.id).toMatch(/^toolu_01/);

    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '3' }] });
    const second = await client.messages.create({ model: MODEL, max_tokens: 512, tools: [SQUEUE_TOOL], messages });
    expect(second.content).toEqual([{ type: 'text', text: 'You have 3 jobs.' }]);
    expect(toolResultsIn(emu.messageRequests[1]?.body)).toEqual([{ tool_use_id: call.id, content: '3', is_error: false }]);
  });

  it('refuses what the API refuses: a tool_use left without its tool_result, a missing max_tokens', async () => {
    const { emu, client } = await setup();
    const history: MessageParam[] = [
      { role: 'user', content: 'jobs?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01abc', name: 'squeue', input: {} }] },
      { role: 'user', content: 'well?' },
    ];
    const err: unknown = await client.messages.create({ model: MODEL, max_tokens: 64, tools: [SQUEUE_TOOL], messages: history }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).status).toBe(400);
    expect((err as BadRequestError).message).toContain('toolu_01abc');

    const res = await fetch(`${emu.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: ask('hi') }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('a bad API key is a 401 AuthenticationError', async () => {
    const { emu } = await setup();
    const client = new Anthropic({ baseURL: emu.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    const err: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('hi') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
    expect((err as AuthenticationError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('scripted 429 and 5xx surface as RateLimitError and InternalServerError', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.error(429, { retryAfterSec: 30 }), reply.error(500), reply.error(529));
    const rate: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('a') }).catch((e: unknown) => e);
    expect(rate).toBeInstanceOf(RateLimitError);
    expect((rate as RateLimitError).headers.get('retry-after')).toBe('30');
    expect((rate as RateLimitError).requestID).toMatch(/^req_/);
    const internal: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('b') }).catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(InternalServerError);
    expect((internal as InternalServerError).status).toBe(500);
    const overloaded: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('c') }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect((overloaded as InternalServerError).status).toBe(529);
    expect((overloaded as InternalServerError).error).toMatchObject({ error: { type: 'overloaded_error' } });
  });

  it('the SDK’s own retry follows retry-after-ms and succeeds on the next reply', async () => {
    const { emu, client } = await setup({ maxRetries: 1 });
    emu.enqueue({ kind: 'error', status: 429, headers: { 'retry-after-ms': '20' } }, reply.text('second time lucky'));
    const msg = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('hi') });
    expect(msg.content).toEqual([{ type: 'text', text: 'second time lucky' }]);
    expect(emu.messageRequests.map((r) => [r.status, r.headers['x-stainless-retry-count']])).toEqual([[429, '0'], [200, '1']]);
    const [first, second] = emu.messageRequests;
    expect((second?.time ?? 0) - (first?.time ?? 0)).toBeGreaterThanOrEqual(15);
  });

  it('a hung request ends in APIConnectionTimeoutError; a dropped one in APIConnectionError', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.hang(), reply.drop());
    const timeout: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('a') }, { timeout: 150 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(APIConnectionTimeoutError);
    const dropped: unknown = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('b') }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(APIConnectionError);
    expect(dropped).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(emu.messageRequests).toHaveLength(2);
  });

  it('with no script left it answers 500 saying so (a test that forgot a reply fails loudly)', async () => {
    const { client } = await setup();
    await expect(client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('hi') })).rejects.toThrow(/no scripted reply left/);
  });

  it('refuses a script that calls a tool the request did not offer', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.toolUse('scancel', { job: 1 }));
    await expect(client.messages.create({ model: MODEL, max_tokens: 8, tools: [SQUEUE_TOOL], messages: ask('cancel') })).rejects.toThrow(/scancel.*did not offer/);
  });

  it('streams text and tool_use as SSE the SDK assembles', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.text('Streaming works fine, thanks.'), reply.toolUse('squeue', { user: 'ada', states: ['RUNNING', 'PENDING'] }));
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: ask('stream please') });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Streaming works fine, thanks.' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Streaming works fine, thanks.');
    expect(emu.messageRequests[0]?.stream).toBe(true);

    const toolStream = client.messages.stream({ model: MODEL, max_tokens: 64, tools: [SQUEUE_TOOL], messages: ask('jobs?') });
    const toolFinal = await toolStream.finalMessage();
    expect(toolFinal.stop_reason).toBe('tool_use');
    expect(toolFinal.content[0]).toMatchObject({ type: 'tool_use', name: 'squeue', input: { user: 'ada', states: ['RUNNING', 'PENDING'] } });
  });

  it('raw stream events come in the documented order', async () => {
    const { emu, client } = await setup();
    emu.enqueue(reply.text('hi'));
    const events: string[] = [];
    const stream = await client.messages.create({ model: MODEL, max_tokens: 8, messages: ask('x'), stream: true });
    for await (const ev of stream) events.push(ev.type);
    expect(events).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });
});

describe('Anthropic emulator: the models endpoint (what a key check asks)', () => {
  it('retrieves a known model, lists them, answers 404 for an unknown one and 401 for a wrong key, as the API does', async () => {
    const { emu, client } = await setup();
    const info = await client.models.retrieve('claude-sonnet-5-5');
    expect(info).toMatchObject({ type: 'model', id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5' });
    expect((await client.models.retrieve('claude-sonnet-4-5-20250929')).display_name).toBe('Claude Sonnet 4.5');
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-haiku-4-5');
    const missing = await client.models.retrieve('claude-nonesuch-1').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).message).toMatch(/model: claude-nonesuch-1/);
    const wrong = new Anthropic({ baseURL: emu.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    await expect(wrong.models.retrieve('claude-sonnet-5-5')).rejects.toBeInstanceOf(AuthenticationError);
    // No scripted reply was used: listing models costs nothing.
    expect(emu.messageRequests).toHaveLength(0);
  });
});
