import type { SettingsService } from '../config/settings.js';
import type { SecretsService } from '../secrets/secrets-service.js';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { DoctorCheck } from './doctor.js';

export interface CoreCheckDeps {
  settings: SettingsService;
  secrets: SecretsService;
  /** Null when no cluster is configured; throwing means the target could not be resolved. */
  cluster: () => ClusterService;
  keychainError: string | null;
}

export function settingsChecks(d: CoreCheckDeps): DoctorCheck[] {
  return [
    {
      id: 'settings.valid',
      title: 'Settings file',
      async run() {
        d.settings.getAll();
        const problems = d.settings.lastProblems();
        if (problems.length === 0) return { ok: true, message: `Settings in ${d.settings.path} are valid.` };
        return { ok: false, message: problems.map((p) => p.message).join(' '), fix: 'Fix them with `hpc-relay config set KEY VALUE` or `hpc-relay config unset KEY`.' };
      },
    },
    {
      id: 'secrets.keychain',
      title: 'Keychain',
      async run() {
        const status = await d.secrets.status();
        if (!d.keychainError) return { ok: true, message: 'The OS keychain is reachable.' };
        const fromEnv = status.filter((s) => s.source === 'env').length;
        if (fromEnv === status.length) return { ok: true, message: `No keychain (${d.keychainError}), but every secret comes from the environment.` };
        return { ok: false, message: `The OS keychain is not reachable: ${d.keychainError}.`, fix: 'Unlock your keychain (on Linux: a Secret Service such as gnome-keyring), or set the HPC_RELAY_* secret variables.' };
      },
    },
    {
      id: 'secrets.present',
      title: 'Secrets for enabled features',
      async run() {
        const s = d.settings.settings();
        const status = await d.secrets.status();
        const missing = status.filter((x) => (x.source === 'unset' || x.source === 'keychain-unavailable')
          && ((s.slack.enabled && x.name.startsWith('slack-')) || (s.llm.enabled && x.name === 'anthropic-api-key')));
        if (missing.length === 0) return { ok: true, message: 'Every enabled feature has its secrets.' };
        return { ok: false, message: `Missing: ${missing.map((m) => m.label).join(', ')}.`, fix: `Run ${missing.map((m) => `\`hpc-relay secrets set ${m.name}\``).join(' and ')} (the value is read from standard input).` };
      },
    },
  ];
}

export function clusterChecks(d: CoreCheckDeps): DoctorCheck[] {
  return [
    {
      id: 'ssh.connect',
      title: 'SSH to the login node',
      async run() {
        const cluster = d.cluster();
        await cluster.ssh.connect();
        return { ok: true, message: 'Connected: the host key is known and login succeeded.' };
      },
    },
    {
      id: 'slurm.sinfo',
      title: 'SLURM commands',
      async run() {
        const parts = await d.cluster().partitions();
        if (parts.length === 0) return { ok: false, message: 'sinfo lists no partitions.', fix: 'Ask your cluster admins which partitions you may use.' };
        return { ok: true, message: `Partitions: ${parts.map((p) => (p.isDefault ? `${p.name} (default)` : p.name)).join(', ')}.` };
      },
    },
    {
      id: 'cluster.remoteDir',
      title: 'Remote working directory',
      async run() {
        const dir = await d.cluster().remoteDir();
        return { ok: true, message: `${dir} exists and is writable.` };
      },
    },
  ];
}
