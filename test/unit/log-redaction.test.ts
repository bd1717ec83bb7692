import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../main/core/log/logger.js';
import { REDACTED, SecretRegistry } from '../../main/core/secrets/redact.js';
import { makeHome } from '../helpers/temp-home.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';

describe('logs never hold a secret', () => {
  it('redacts registered values, token-shaped strings and secret-named fields in every line', () => {
    const file = path.join(makeHome('log'), 'logs', 'hpc-relay.log');
    const registry = new SecretRegistry();
    registry.add(TEST_SECRETS.passphrase);
    const log = createLogger({ file, registry, level: 'debug' });
    log.info(`connected with ${TEST_SECRETS.passphrase} in the text`);
    log.warn('slack said', { body: `invalid token ${TEST_SECRETS.slackBot}`, nested: { appToken: 'anything-at-all' } });
    log.child({ component: 'agent' }).error('model call', { header: `x-api-key: ${TEST_SECRETS.anthropic}`, apiKey: 'plain-value-123' });
    log.debug('private key', { pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----' });
    log.flush();
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    for (const s of Object.values(TEST_SECRETS)) expect(text).not.toContain(s);
    expect(text).not.toContain('anything-at-all');
    expect(text).not.toContain('plain-value-123');
    expect(text).not.toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(lines[0]!.msg).toBe(`connected with ${REDACTED} in the text`);
    expect(lines[2]!.component).toBe('agent');
  });

  it('is silent with no destination', () => {
    const log = createLogger({ registry: new SecretRegistry() });
    expect(() => log.info('nowhere')).not.toThrow();
  });
});
