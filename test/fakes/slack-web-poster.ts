import { webApi } from '@slack/bolt';
import type { SlackPoster } from '../../main/core/cron/ports.js';
import { boltLoggerFor } from '../../main/core/slack/bolt-logger.js';
import { SlackGatewayError, isTransientSlackError, slackPostError } from '../../main/core/slack/errors.js';
import { createMemoryLogger } from './memory-logger.js';
import type { SlackEmulator } from './slack-emulator.js';

/** A minimal SlackPoster over Slack's Web API client, for cron tests without a gateway (the Slack gateway provides the real one). */
export function webClientPoster(emu: SlackEmulator): SlackPoster {
  const client = new webApi.WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: boltLoggerFor(createMemoryLogger(), 'error') });
  return {
    async post({ channel, user, text }) {
      try {
        const target = user ? (await client.conversations.open({ users: user })).channel?.id : channel;
        if (!target) throw new Error('no channel to post in');
        await client.chat.postMessage({ channel: target, text });
      } catch (e) {
        if (isTransientSlackError(e)) throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not reach Slack: ${e instanceof Error ? e.message : String(e)}.`, { cause: e });
        throw slackPostError('chat.postMessage', e);
      }
    },
  };
}
