/**
 * The only pages the app will hand to the system browser: Slack (app setup, OAuth) and GitHub
 * (docs, issues). Matched by exact https origin, so `https://slack.com.evil.example` and
 * `http://slack.com` are refused.
 */
export const externalOrigins: readonly string[] = ['https://slack.com', 'https://api.slack.com', 'https://github.com'];

export function isAllowedExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && externalOrigins.includes(parsed.origin);
  } catch {
    return false;
  }
}

/** Opens the URL in the system browser when it is allowed; says whether it did. */
export function openExternalIfAllowed(url: string, openExternal: (url: string) => Promise<void>): boolean {
  if (!isAllowedExternalUrl(url)) {
    console.warn(`security: refused to open external URL ${url}`);
    return false;
  }
  openExternal(url).catch((e: unknown) => console.warn(`security: could not open ${url}`, e));
  return true;
}

/**
 * A Slack link the window may open in the browser (a job's report thread from chat.getPermalink):
 * https, no credentials in it, on slack.com or a workspace's subdomain of it
 * (`https://team.slack.com/archives/C…/p…`). `https://slack.com.evil.example` is refused.
 */
export function isSlackPermalink(url: string): boolean {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase();
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && parsed.port === ''
      && (host === 'slack.com' || host.endsWith('.slack.com'));
  } catch {
    return false;
  }
}
