/**
 * Errors of the Slack gateway. Shaped like `RelayError` (stable code + a sentence saying what to
 * do); the codes belong in `ErrorCode` in ../errors.ts once that list grows Slack entries.
 */
export type SlackErrorCode =
  /** auth.test refused the bot token (xoxb-). */
  | 'SLACK_BOT_TOKEN_REFUSED'
  /** apps.connections.open refused the app-level token (xapp-), or it lacks connections:write. */
  | 'SLACK_APP_TOKEN_REFUSED'
  /** Slack could not be reached or answered with something other than a Slack answer. */
  | 'SLACK_UNREACHABLE';

export class SlackGatewayError extends Error {
  readonly code: SlackErrorCode;
  readonly fix: string | undefined;

  constructor(code: SlackErrorCode, message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(options.fix ? `${message} ${options.fix}` : message, { cause: options.cause });
    this.name = 'SlackGatewayError';
    this.code = code;
    this.fix = options.fix;
  }
}

/** The `error` string of a Web API platform error (`{ok:false,error}`), if `e` is one. */
export function slackPlatformError(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, data } = e as { code?: unknown; data?: unknown };
  if (code !== 'slack_webapi_platform_error' || typeof data !== 'object' || data === null) return undefined;
  const error = (data as { error?: unknown }).error;
  return typeof error === 'string' ? error : undefined;
}
