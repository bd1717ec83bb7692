/**
 * Fault suite, the model endpoint: someone asks the agent in Slack (a mention in a channel, so the
 * answer goes to that thread) while the model API answers 429, 500, hangs, or drops the connection.
 * Transient failures are retried; when they do not clear, the thread gets one clear sentence with
 * what to do — once, and nothing else. The real path: the Slack gateway against the emulator, the
 * core's ports and agent, the real @anthropic-ai/sdk against the Anthropic emulator.
 *
 * The agent's model-call tests (test/unit/agent-cost.test.ts) cover the gateway's retry arithmetic;
 * this file is about what reaches the user through Slack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../main/core/agent/index.js';
import type { Core } from '../../main/core/index.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackPorts } from '../../main/core/slack/jobs-api.js';
import { corePorts } from '../../main/core/slack/wiring.js';
import { AgentStore } from '../../main/core/store/agent-store.js';
import { reply, startAnthropicEmulator, type AnthropicEmulator, type ScriptedReply } from '../fakes/anthropic-emulator.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator, type ApiCall, type SlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-http-proxy.js';
import { localCore } from '../helpers/testbed-core.js';

const CHANNEL = 'C0GENERAL01';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Rig {
  c: Core;
  slack: SlackEmulator;
  model: AnthropicEmulator;
  proxy: FaultProxy;
  /** Mentions the bot in the channel; resolves with the thread's replies once `count` have come. */
  ask(text: string, count?: number): Promise<ApiCall[]>;
}

/**
 * A core with the agent on (llm.baseUrl is a proxy in front of the Anthropic emulator; the key
 * comes from the environment as on a server) and the Slack gateway on the core's own ports, or
 * on `ports(core)` when given.
 */
async function rig(ports?: (c: Core) => SlackPorts): Promise<Rig> {
  const model = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
  cleanups.push(() => model.close());
  const proxy = await startFaultProxy(model.url);
  cleanups.push(() => proxy.close());
  const c = localCore({ label: 'fault-model', env: { HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic } });
  cleanups.push(() => c.close());
  c.settings.set('llm.enabled', true);
  c.settings.set('llm.baseUrl', proxy.url);
  c.settings.set('llm.model', 'claude-sonnet-4-6');
  const slack = await startSlackEmulator();
  cleanups.push(() => slack.close());
  const gw = createSlackGateway({
    botToken: slack.botToken, appToken: slack.appToken, apiUrl: slack.apiUrl, logger: createMemoryLogger(), registry: c.registry,
    allowedUsers: () => [slack.defaultUserId], homeChannel: () => CHANNEL, ports: ports?.(c) ?? corePorts(c),
  });
  cleanups.push(() => gw.stop());
  await gw.start();
  return {
    c, slack, model, proxy,
    async ask(text, count = 1) {
      const d = slack.sendAppMention({ text, channel: CHANNEL });
      const ts = (d.payload as { event?: { ts?: string } }).event?.ts;
      expect(ts).toBeTruthy();
      const inThread = () => slack.callsTo('chat.postMessage').filter((x) => x.params.thread_ts === ts && x.params.channel === CHANNEL);
      await slack.waitFor(() => (inThread().length >= count ? true : undefined), 30_000, `${count} repl(ies) in the thread`);
      // A moment more: nothing else may follow.
      await new Promise((r) => setTimeout(r, 300));
      return inThread();
    },
  };
}

const text = (x: ApiCall | undefined): string => String(x?.params.text ?? '');
/** A 429/5xx that says when to retry: a few ms here (the API sends seconds). */
const fast = (status: number): ScriptedReply => ({ kind: 'error', status, headers: { 'retry-after-ms': '20' } });

describe('the model endpoint failing while a Slack thread waits for the agent', () => {
  it('429 that does not clear: retried, then one sentence in the thread saying it is rate-limited and what to do', async () => {
    const r = await rig();
    r.model.enqueue(fast(429), fast(429), fast(429), fast(429));
    const replies = await r.ask('what is running?');
    expect(r.model.messageRequests.map((q) => q.status)).toEqual([429, 429, 429, 429]);
    expect(replies.map(text)).toEqual(['The model API is rate-limiting this key (HTTP 429) (tried 4 times); nothing was done. Ask again in a minute.']);
    // Nothing was billed for calls that did not answer.
    expect(new AgentStore(r.c.db(), r.c.registry).spendSince(0).usd).toBe(0);
  });

  it('500, 529, then an answer: the user sees only the answer', async () => {
    const r = await rig();
    r.model.enqueue(fast(500), fast(529), reply.text('Nothing is running right now.'));
    const replies = await r.ask('what is running?');
    expect(r.model.messageRequests.map((q) => q.status)).toEqual([500, 529, 200]);
    expect(replies.map(text)).toEqual(['Nothing is running right now.']);
  });

  it('500s that do not clear (no Retry-After: the backoff of 1, 2, 4 s): one sentence that the API is failing, with where to look', async () => {
    const r = await rig();
    r.model.enqueue(reply.error(500), reply.error(500), reply.error(500), reply.error(500));
    const replies = await r.ask('summarise my jobs');
    expect(r.model.messageRequests).toHaveLength(4);
    expect(replies.map(text)).toEqual(['The model API is failing (HTTP 500: Internal server error) (tried 4 times); nothing was done. Ask again in a few minutes; https://status.anthropic.com says whether it is down.']);
  }, 30_000);

  it('connections dropped (before the API saw the request, and after it answered): retried, one answer', async () => {
    const r = await rig();
    r.proxy.cutNext((q) => q.path.startsWith('/v1/messages'), 'before');
    r.proxy.cutNext((q) => q.path.startsWith('/v1/messages'), 'after');
    r.model.enqueue(reply.text('First answer (lost on the way back).'), reply.text('Here it is.'));
    const replies = await r.ask('hello?');
    expect(r.proxy.requests.filter((q) => q.path.startsWith('/v1/messages')).map((q) => q.cut)).toEqual(['before', 'after', null]);
    expect(replies.map(text)).toEqual(['Here it is.']);
  }, 30_000);

  it('a model that hangs: each call times out, is retried, then one sentence that it did not answer in time', async () => {
    // The same agent, with a short timeout (the default is 120 s) and one retry.
    const r = await rig((c) => {
      const agent = createAgent(c, { db: c.db(), poster: { post: async () => undefined }, model: { timeoutMs: 500, retries: 1, retryBaseMs: 20 } });
      return { ...corePorts(c), agent: { handle: (req, io) => agent.handle(req, io) } };
    });
    r.model.enqueue(reply.hang(), reply.hang());
    const replies = await r.ask('are you there?');
    expect(r.model.messageRequests).toHaveLength(2);
    expect(replies.map(text)).toEqual(['The model API did not answer in time (tried 2 times); nothing was done. Check the network (and llm.baseUrl if you set one), then ask again.']);
  });
});
