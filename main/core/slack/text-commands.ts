/**
 * What the bot says to plain text. The first slice knows one deterministic command; the real
 * command registry replaces `builtinTextHandler`, the gateway only needs this seam.
 */
export interface TextContext {
  userId: string;
  channelId: string;
}

/** A reply to post, or null to stay silent. */
export type TextHandler = (text: string, ctx: TextContext) => string | null | Promise<string | null>;

export const builtinTextHandler: TextHandler = (text) => {
  if (text.trim().toLowerCase() === 'ping') return 'pong';
  return null;
};

/** Drops a leading `<@U123>` mention (app_mention text starts with one). */
export function stripLeadingMention(text: string): string {
  return text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*/, '');
}
