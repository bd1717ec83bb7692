/**
 * Drives a Slack emulator the way a user (or a forger) would and waits for the one answer each
 * input gets: a DM reply, a reply in a followed channel thread, a slash command's response_url
 * post or ack, an ephemeral refusal, a button click's ephemeral answer.
 */
import type { ApiCall, Delivery, SlackEmulator } from '../fakes/slack-emulator.js';
import type { Surface } from './hostile-corpus.js';

export const GENERAL = 'C0GENERAL01';

export interface Answer {
  text: string;
  /** How it came: chat.postMessage, chat.postEphemeral, the slash ack, or a response_url post. */
  via: 'message' | 'ephemeral' | 'ack' | 'response_url';
  /** The Web API call, for message and ephemeral answers. */
  call?: ApiCall;
}

const responseUrlId = (d: Delivery): string => String(d.payload.response_url).split('/').pop() ?? '';

export class SlackDriver {
  private threadRoot: string | undefined;

  constructor(private readonly emu: SlackEmulator, private readonly timeoutMs = 10_000) {}

  get owner(): string {
    return this.emu.defaultUserId;
  }

  private nextPost(pred: (c: ApiCall) => boolean, from: number, what: string, timeoutMs = this.timeoutMs): Promise<ApiCall> {
    return this.emu.waitFor(() => this.emu.calls.slice(from).find((c) => c.method === 'chat.postMessage' && pred(c)), timeoutMs, what);
  }

  /** The owner @mentions the bot in #general (a `ping`), so the bot follows that thread; returns its root ts. */
  async followThread(): Promise<string> {
    if (this.threadRoot) return this.threadRoot;
    const from = this.emu.calls.length;
    const d = this.emu.sendAppMention({ text: 'ping', channel: GENERAL });
    const root = String((d.payload.event as { ts: string }).ts);
    await this.nextPost((c) => c.params.thread_ts === root, from, 'the pong in the followed thread');
    this.threadRoot = root;
    return root;
  }

  /** The owner sends `text` on a surface (a thread gets the `!` prefix); resolves with the answer. */
  async ask(surface: Surface, text: string, timeoutMs = this.timeoutMs): Promise<Answer> {
    const from = this.emu.calls.length;
    const what = `the ${surface} answer to ${JSON.stringify(text.slice(0, 60))}`;
    if (surface === 'dm') {
      const dm = this.emu.dmChannelFor(this.owner);
      this.emu.sendDirectMessage({ text });
      const call = await this.nextPost((c) => c.params.channel === dm && c.params.thread_ts === undefined, from, what, timeoutMs);
      return { text: String(call.params.text), via: 'message', call };
    }
    if (surface === 'thread') {
      const root = await this.followThread();
      const start = this.emu.calls.length;
      this.emu.sendEvent({ type: 'message', channel: GENERAL, channel_type: 'channel', user: this.owner, text: `!${text}`, thread_ts: root });
      const call = await this.nextPost((c) => c.params.channel === GENERAL && c.params.thread_ts === root, start, what, timeoutMs);
      return { text: String(call.params.text), via: 'message', call };
    }
    return this.slash(text, this.owner, timeoutMs);
  }

  /** `/hpc text` from `user`: the answer is the ack's payload (a refusal) or a response_url post. */
  async slash(text: string, user: string, timeoutMs = this.timeoutMs): Promise<Answer> {
    const d = this.emu.sendSlashCommand({ text, userId: user });
    const id = responseUrlId(d);
    return this.emu.waitFor((): Answer | undefined => {
      const acked = d.ack?.payload;
      if (acked && typeof acked.text === 'string') return { text: acked.text, via: 'ack' };
      const post = this.emu.responseUrlPosts.find((p) => p.responseUrlId === id);
      return post ? { text: String(post.body.text), via: 'response_url' } : undefined;
    }, timeoutMs, `the answer to /hpc ${text.slice(0, 60)}`);
  }

  /** The ephemeral answer Slack shows only `user` (refusals). */
  ephemeralFor(user: string, from: number, timeoutMs = this.timeoutMs): Promise<Answer> {
    return this.emu.waitFor(() => {
      const call = this.emu.calls.slice(from).find((c) => c.method === 'chat.postEphemeral' && c.params.user === user);
      return call ? { text: String(call.params.text), via: 'ephemeral' as const, call } : undefined;
    }, timeoutMs, `an ephemeral answer to ${user}`);
  }

  /** A button click; resolves with the ephemeral (or replacing) answer posted to its response_url. */
  async click(opts: { actionId: string; value: string; user: string; messageTs: string; channel: string }, timeoutMs = this.timeoutMs): Promise<Answer> {
    const d = this.emu.sendButtonClick({ actionId: opts.actionId, value: opts.value, userId: opts.user, channelId: opts.channel, messageTs: opts.messageTs });
    const id = responseUrlId(d);
    const post = await this.emu.waitForResponseUrlPost((p) => p.responseUrlId === id, timeoutMs);
    return { text: String(post.body.text), via: 'response_url' };
  }

  /**
   * Proves a silence: a ping sent after the silent input is answered, and nothing else was said
   * since `from` (the input's handler ran before or alongside the ping's).
   */
  async quietSince(from: number): Promise<ApiCall[]> {
    const before = this.emu.calls.length;
    const dm = this.emu.dmChannelFor(this.owner);
    this.emu.sendDirectMessage({ text: 'ping' });
    await this.nextPost((c) => c.params.channel === dm && c.params.text === 'pong', before, 'the pong after a silent input');
    await this.emu.waitForIdle();
    return this.emu.calls.slice(from).filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral') && c.params.text !== 'pong');
  }
}

/** The approval id on an Approval needed message (its Approve button's value). */
export function approvalIdOf(call: ApiCall): string {
  const blocks = call.params.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }> | undefined;
  const approve = blocks?.find((b) => b.type === 'actions')?.elements?.find((e) => e.action_id === 'hpc_approve');
  if (!approve) throw new Error(`no Approve button on ${JSON.stringify(call.params.text)}`);
  return approve.value;
}

/** The same id with one character changed (still 22 base64url characters). */
export function tamper(id: string): string {
  const last = id.at(-1) === 'A' ? 'B' : 'A';
  return `${id.slice(0, -1)}${last}`;
}
