import { RelayError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

/** The Slack entries of `ErrorCode` (../errors.ts). */
export type SlackErrorCode = Extract<ErrorCode, `SLACK_${string}`>;

/** A `RelayError` raised by the Slack side: a stable code and a sentence saying what to do. */
export class SlackGatewayError extends RelayError {
  declare readonly code: SlackErrorCode;

  constructor(code: SlackErrorCode, message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'SlackGatewayError';
  }
}

/** The `error` string of a Web API platform error (`{ok:false,error}`), if `e` is one. */
export function slackPlatformError(e: unknown): string | undefined {
  return platformData(e)?.error;
}

/** The whole `{ok:false,…}` body of a Web API platform error (for `needed` of `missing_scope`). */
export function platformData(e: unknown): { error: string; needed?: string; provided?: string } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, data } = e as { code?: unknown; data?: unknown };
  if (code !== 'slack_webapi_platform_error' || typeof data !== 'object' || data === null) return undefined;
  const { error, needed, provided } = data as { error?: unknown; needed?: unknown; provided?: unknown };
  if (typeof error !== 'string') return undefined;
  return {
    error,
    ...(typeof needed === 'string' ? { needed } : {}),
    ...(typeof provided === 'string' ? { provided } : {}),
  };
}

/** Seconds Slack asked us to wait (HTTP 429 Retry-After), if `e` is a rate-limit error. */
export function rateLimitRetryAfter(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, retryAfter } = e as { code?: unknown; retryAfter?: unknown };
  if (code !== 'slack_webapi_rate_limited_error') return undefined;
  return typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : 1;
}

/** Platform errors that mean "try again later", not "this message is wrong". */
const TRANSIENT_PLATFORM = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'team_added_to_org']);

/** True for failures worth retrying: the network, Slack's 5xx, and Slack's own "try later" errors. */
export function isTransientSlackError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code } = e as { code?: unknown };
  if (code === 'slack_webapi_request_error') return true;
  if (code === 'slack_webapi_http_error') {
    const status = (e as { statusCode?: unknown }).statusCode;
    return typeof status !== 'number' || status >= 500 || status === 408;
  }
  const platform = slackPlatformError(e);
  return platform !== undefined && TRANSIENT_PLATFORM.has(platform);
}

/** A coded error for a Web API failure that will not go away by retrying. */
export function slackPostError(method: string, e: unknown): SlackGatewayError {
  const data = platformData(e);
  if (data?.error === 'missing_scope') {
    return new SlackGatewayError('SLACK_MISSING_SCOPE', `Slack refused ${method}: the bot token lacks the scope ${data.needed ?? '(not named)'}.`, {
      fix: `Add ${data.needed ?? 'the scope'} under OAuth & Permissions → Bot Token Scopes (or recreate the app from \`hpc-relay slack manifest\`), then reinstall the app to the workspace.`,
      cause: e,
    });
  }
  if (data?.error === 'not_in_channel') {
    return new SlackGatewayError('SLACK_NOT_IN_CHANNEL', 'The bot is not a member of that channel.', {
      fix: 'Invite it there (type /invite @HPC Relay in the channel), or point slack.homeChannel at a channel it is in.',
      cause: e,
    });
  }
  if (data?.error === 'channel_not_found') {
    return new SlackGatewayError('SLACK_CHANNEL_NOT_FOUND', 'Slack knows no such channel (or the bot cannot see it).', {
      fix: 'Set slack.homeChannel to a channel ID such as C012ABCDEF (channel details → About), and invite the bot there.',
      cause: e,
    });
  }
  if (data?.error === 'invalid_auth' || data?.error === 'token_revoked' || data?.error === 'account_inactive' || data?.error === 'not_authed') {
    return new SlackGatewayError('SLACK_BOT_TOKEN_REFUSED', `Slack refused the bot token (${data.error}).`, {
      fix: 'Copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page and run `hpc-relay secrets set slack-bot-token`.',
      cause: e,
    });
  }
  const why = data?.error ?? (e instanceof Error ? e.message : String(e));
  return new SlackGatewayError('SLACK_POST_FAILED', `Slack refused ${method} (${why}).`, { cause: e });
}
