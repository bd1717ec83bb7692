import type { SettingsService } from '../config/settings.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import { checkModel } from '../setup/model-check.js';
import type { DoctorCheck } from './doctor.js';

export interface ModelCheckDeps {
  settings: SettingsService;
  secrets: SecretsService;
}

/**
 * The agent's model: with llm.enabled, the API key and model name asked of the model API's models
 * endpoint (free: no tokens spent); with the agent off, a pass that says so (commands only).
 */
export function modelChecks(d: ModelCheckDeps): DoctorCheck[] {
  return [
    {
      id: 'llm.key',
      title: 'Model API key',
      async run() {
        const llm = d.settings.settings().llm;
        if (!llm.enabled) return { ok: true, message: 'The agent is off: Slack runs commands only (no model calls, no cost).' };
        const r = await checkModel({ apiKey: await d.secrets.get('anthropic-api-key'), model: llm.model, baseUrl: llm.baseUrl });
        return r.ok ? { ok: true, message: r.message } : { ok: false, message: r.message, fix: r.fix ?? 'Run `hpc-relay secrets set anthropic-api-key` (read from standard input), or `hpc-relay config set llm.enabled false` for commands only.' };
      },
    },
  ];
}
