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
  /** This computer's clock (default Date.now), for the clock-skew check. */
  now?: () => number;
}

/** Clock skew past this is worth a warning (sacct times, the cron catch-up window); past SKEW_FAIL_S it is a failure. */
export const SKEW_WARN_S = 60;
export const SKEW_FAIL_S = 300;

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
    {
      id: 'cluster.clock',
      title: 'Clock skew with the login node',
      async run() {
        const now = d.now ?? Date.now;
        const before = now();
        const out = (await d.cluster().run(['date', '+%s'], { timeoutMs: 30_000, idempotent: true })).trim();
        const after = now();
        const remote = Number(out);
        if (!/^\d+$/.test(out) || !Number.isFinite(remote)) {
          return { ok: true, warning: true, message: `The login node's \`date +%s\` printed ${JSON.stringify(out.slice(0, 40))}, not a time, so the clocks could not be compared.`, fix: 'Check that `date` works on the login node (`hpc-relay exec -- date +%s`).' };
        }
        // The remote second was read somewhere between before and after: compare with the middle.
        const skew = Math.round(remote - (before + after) / 2000);
        const abs = Math.abs(skew);
        const which = skew > 0 ? 'ahead of' : 'behind';
        const fix = 'Turn on automatic time (NTP) on this computer; if it is already on, tell your cluster admins the login node\'s clock is off.';
        if (abs >= SKEW_FAIL_S) return { ok: false, message: `The login node's clock is ${abs} s ${which} this computer's: job times, the events file and monitors' catch-up after sleep would be misread.`, fix };
        if (abs >= SKEW_WARN_S) return { ok: true, warning: true, message: `The login node's clock is ${abs} s ${which} this computer's.`, fix };
        return { ok: true, message: abs <= 2 ? 'The clocks agree (within 2 s).' : `The clocks are ${abs} s apart (fine).` };
      },
    },
  ];
}
