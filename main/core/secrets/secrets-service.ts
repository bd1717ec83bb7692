import { RelayError } from '../errors.js';
import type { SecretStore } from '../ports.js';
import { SECRETS, secretSpec, validateSecretValue } from './secret-names.js';
import type { SecretRegistry } from './redact.js';

export type SecretSource = 'env' | 'keychain' | 'unset' | 'keychain-unavailable';

export interface SecretStatus {
  name: string;
  label: string;
  source: SecretSource;
  detail?: string;
}

/**
 * Secrets from the environment (servers, containers, CI) or else the OS keychain. Every value
 * read is registered with the redactor, so it can never reach a log or a message.
 */
export class SecretsService {
  constructor(
    private readonly keychain: SecretStore | null,
    private readonly env: NodeJS.ProcessEnv,
    private readonly registry: SecretRegistry,
    private readonly keychainError: string | null = null,
  ) {
    for (const spec of Object.values(SECRETS)) {
      const v = spec.env ? env[spec.env] : undefined;
      if (v) registry.add(v);
    }
  }

  async get(name: string): Promise<string | null> {
    const spec = secretSpec(name);
    const fromEnv = spec.env ? this.env[spec.env]?.trim() : undefined;
    if (fromEnv) return fromEnv;
    if (!this.keychain) return null;
    const v = await this.keychain.get(spec.account);
    if (v) this.registry.add(v);
    return v;
  }

  async set(name: string, raw: string): Promise<void> {
    const value = validateSecretValue(name, raw);
    this.registry.add(value);
    if (!this.keychain) throw this.unavailable();
    await this.keychain.set(secretSpec(name).account, value);
  }

  async delete(name: string): Promise<boolean> {
    if (!this.keychain) throw this.unavailable();
    return this.keychain.delete(secretSpec(name).account);
  }

  async status(): Promise<SecretStatus[]> {
    const out: SecretStatus[] = [];
    for (const [name, spec] of Object.entries(SECRETS)) {
      if (spec.env && this.env[spec.env]?.trim()) {
        out.push({ name, label: spec.label, source: 'env', detail: `from $${spec.env}` });
        continue;
      }
      if (!this.keychain) {
        out.push({ name, label: spec.label, source: 'keychain-unavailable', detail: this.keychainError ?? 'no keychain' });
        continue;
      }
      try {
        const v = await this.keychain.get(spec.account);
        if (v) this.registry.add(v);
        out.push({ name, label: spec.label, source: v ? 'keychain' : 'unset' });
      } catch (e) {
        out.push({ name, label: spec.label, source: 'keychain-unavailable', detail: (e as Error).message });
      }
    }
    return out;
  }

  private unavailable(): RelayError {
    return new RelayError('KEYCHAIN_UNAVAILABLE', `The OS keychain is not reachable${this.keychainError ? ` (${this.keychainError})` : ''}.`, {
      fix: 'Unlock your keychain, or on a server set HPC_RELAY_SLACK_BOT_TOKEN, HPC_RELAY_SLACK_APP_TOKEN and HPC_RELAY_ANTHROPIC_API_KEY in the environment.',
    });
  }
}
