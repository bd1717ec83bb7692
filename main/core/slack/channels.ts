/**
 * Turns what a user writes in settings (`C012ABCDEF`, `#ml-runs`, `U012ABCDEF` for a DM) into a
 * channel ID Slack's APIs take everywhere (files.completeUploadExternal wants IDs only).
 */
import { SlackGatewayError } from './errors.js';
import type { SlackSender } from './sender.js';

export class ChannelResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly sender: SlackSender) {}

  async resolve(ref: string): Promise<string> {
    const hit = this.cache.get(ref);
    if (hit) return hit;
    const id = await this.lookup(ref.trim());
    this.cache.set(ref, id);
    return id;
  }

  /** The DM channel with a user (conversations.open; needs im:write). */
  async dm(user: string): Promise<string> {
    const hit = this.cache.get(`dm:${user}`);
    if (hit) return hit;
    const r = await this.sender.call('conversations.open', { users: user });
    const id = (r.channel as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw new SlackGatewayError('SLACK_CHANNEL_NOT_FOUND', `Slack did not open a DM with ${user}.`);
    this.cache.set(`dm:${user}`, id);
    return id;
  }

  private async lookup(ref: string): Promise<string> {
    const bare = ref.replace(/^[#@]/, '');
    if (/^[CGD][A-Z0-9]{2,}$/.test(bare)) return bare;
    if (/^[UW][A-Z0-9]{2,}$/.test(bare)) return this.dm(bare);
    if (ref.startsWith('@')) {
      throw new SlackGatewayError('SLACK_CHANNEL_NOT_FOUND', `${ref} names a person by name; give their user ID (U…) or a channel.`, {
        fix: 'Use a channel ID such as C012ABCDEF, or a user ID such as U012ABCDEF for a DM.',
      });
    }
    let cursor = '';
    for (let page = 0; page < 50; page++) {
      const r = await this.sender.call('conversations.list', { types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) });
      const channels = Array.isArray(r.channels) ? (r.channels as Array<{ id?: unknown; name?: unknown }>) : [];
      const found = channels.find((c) => c.name === bare && typeof c.id === 'string');
      if (found && typeof found.id === 'string') return found.id;
      const next = (r.response_metadata as { next_cursor?: unknown } | undefined)?.next_cursor;
      if (typeof next !== 'string' || next === '') break;
      cursor = next;
    }
    throw new SlackGatewayError('SLACK_CHANNEL_NOT_FOUND', `Slack has no channel named #${bare} that the bot can see.`, {
      fix: 'Check slack.homeChannel; for a private channel, invite the bot first, or use the channel ID (C…).',
    });
  }
}
