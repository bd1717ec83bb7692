import fs from 'node:fs';
import { RelayError } from '../errors.js';
import type { Notifier } from '../ports.js';
import type { SlackPoster } from './ports.js';
import type { Target } from './targets.js';
import { formatWallTime } from './tz.js';

export interface DeliveryDeps {
  slack?: SlackPoster | undefined;
  notifier?: Notifier | undefined;
  /** slack.homeChannel, read when a message goes out (so a change applies to the next run). */
  homeChannel: () => string | undefined;
}

export interface OutgoingMessage {
  monitorId: string;
  monitorName: string;
  text: string;
  /** When the run started; stamped into file output. */
  at: number;
  timezone: string;
}

const TRAY_BODY_MAX = 600;

/** Slack reads <…> as links and mentions: a job named "<!channel>" must not ping everyone. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function noSlack(): RelayError {
  return new RelayError('CRON_TARGET_UNAVAILABLE', 'Slack is not connected in this process, so the monitor cannot post there.', {
    fix: 'Enable Slack (`hpc-relay config set slack.enabled true` and the bot token), or deliver with --to tray or --to file:PATH.',
  });
}

/** Sends one monitor's output to its target; resolves with where it went ("slack:C012…", "file:/…"). */
export async function deliver(target: Target, msg: OutgoingMessage, deps: DeliveryDeps): Promise<string> {
  switch (target.kind) {
    case 'slack': {
      const channel = deps.homeChannel();
      if (!channel) {
        throw new RelayError('CRON_TARGET_UNAVAILABLE', `slack.homeChannel is not set, so monitor ${msg.monitorId} has no channel to post in.`, {
          fix: 'Set it with `hpc-relay config set slack.homeChannel C012ABCDEF`, or point the monitor at dm:U…, tray or file:PATH.',
        });
      }
      if (!deps.slack) throw noSlack();
      await deps.slack.post({ channel, text: slackEscape(msg.text) });
      return `slack:${channel}`;
    }
    case 'dm': {
      if (!deps.slack) throw noSlack();
      await deps.slack.post({ user: target.user, text: slackEscape(msg.text) });
      return `dm:${target.user}`;
    }
    case 'tray': {
      if (!deps.notifier) {
        throw new RelayError('CRON_TARGET_UNAVAILABLE', 'The tray is only there while the HPC Relay app runs; this process has none.', {
          fix: 'Run the app, or deliver with --to slack or --to file:PATH when running headless.',
        });
      }
      const body = msg.text.length > TRAY_BODY_MAX ? `${msg.text.slice(0, TRAY_BODY_MAX - 1)}…` : msg.text;
      await deps.notifier.notify({ id: `cron:${msg.monitorId}:${msg.at}`, title: msg.monitorName, body, target: `cron:${msg.monitorId}` });
      return 'tray';
    }
    case 'file': {
      const header = `--- ${formatWallTime(msg.at, msg.timezone)} ${msg.timezone} · monitor ${msg.monitorId} (${msg.monitorName}) ---`;
      try {
        fs.appendFileSync(target.path, `${header}\n${msg.text}\n\n`, { mode: 0o600 });
      } catch (e) {
        throw new RelayError('CRON_DELIVERY_FAILED', `Could not append to ${target.path}: ${(e as Error).message}.`, {
          fix: 'Check that its folder exists and is writable, or recreate the monitor with another --to file:PATH.',
          cause: e,
        });
      }
      return `file:${target.path}`;
    }
  }
}
