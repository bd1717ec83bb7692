/**
 * One redactor for everything that leaves the process: logs, Slack messages, the database,
 * error text. Known secret values are replaced wherever they appear; so is anything shaped
 * like a Slack token, an Anthropic key or a private key block.
 */
const PATTERNS: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]{6,}/g,
  /xapp-[A-Za-z0-9-]{6,}/g,
  /sk-ant-[A-Za-z0-9_-]{6,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

export const REDACTED = '[redacted]';

export class SecretRegistry {
  private readonly values = new Set<string>();

  add(value: string | null | undefined): void {
    // Very short values would redact ordinary words; real secrets are longer.
    if (value && value.length >= 6) this.values.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    for (const re of PATTERNS) out = out.replace(re, REDACTED);
    return out;
  }
}
