import path from 'node:path';
import { ClusterService } from './cluster/cluster-service.js';
import { SshSession } from './cluster/ssh-session.js';
import { resolveSshTarget } from './cluster/ssh-target.js';
import { chooseAgent } from './cluster/ssh-agent.js';
import { SettingsService } from './config/settings.js';
import { clusterChecks, settingsChecks } from './doctor/core-checks.js';
import { runDoctor, type CheckResult, type DoctorCheck, type DoctorReport } from './doctor/doctor.js';
import { modelChecks } from './doctor/model-checks.js';
import { slurmChecks } from './doctor/slurm-checks.js';
import type { ConfigStore, Logger, Notifier, PromptUser, SecretStore, StatusBoard } from './ports.js';
import { createStatusBoard, sshLinkStatus } from './runtime/status-board.js';
import type { SecretRegistry } from './secrets/redact.js';
import { sshPassphraseName } from './secrets/secret-names.js';
import { SecretsService } from './secrets/secrets-service.js';
import { slackDoctorChecks } from './slack/checks.js';
import { openDatabase, type Db } from './store/database.js';
import { createJobService, type JobService } from './jobs/index.js';

export interface CoreDeps {
  home: string;
  configStore: ConfigStore;
  /** Null when no keychain is reachable; keychainError says why. */
  keychain: SecretStore | null;
  keychainError: string | null;
  env: NodeJS.ProcessEnv;
  registry: SecretRegistry;
  logger: Logger;
  prompt: PromptUser;
  /** Desktop notifications (the tray app); absent in the CLI and the daemon. */
  notifier?: Notifier | null;
  /**
   * better-sqlite3's native binding for this runtime (`npm start` passes an Electron build,
   * see main/app/resource-paths.ts); undefined means the one in node_modules.
   */
  sqliteNativeBinding?: string | undefined;
}

export interface Core {
  readonly home: string;
  readonly settings: SettingsService;
  readonly secrets: SecretsService;
  readonly logger: Logger;
  readonly registry: SecretRegistry;
  /** SSH, Slack, model and job states for the tray and the window. */
  readonly status: StatusBoard;
  /** Desktop notifications when the tray app runs; null otherwise. */
  readonly notifier: Notifier | null;
  readonly sqliteNativeBinding: string | undefined;
  /** The cluster service for the current cluster.* settings (rebuilt when they change). */
  cluster(): ClusterService;
  /** The SQLite store, `hpc-relay.db` in the settings home: opened on first use, closed by close(). */
  db(): Db;
  /** Submit, list, cancel, resubmit, tail SLURM jobs on this core's store and cluster; built on first use. */
  jobs(): JobService;
  doctorChecks(): DoctorCheck[];
  doctor(): Promise<DoctorReport>;
  close(): Promise<void>;
}

/** The composition of the Electron-free core; the app and the CLI each call it with their adapters. */
export function createCore(deps: CoreDeps): Core {
  const settings = new SettingsService(deps.configStore);
  const secrets = new SecretsService(deps.keychain, deps.env, deps.registry, deps.keychainError);
  let current: { key: string; service: ClusterService } | null = null;
  const status = createStatusBoard();
  let database: Db | null = null;
  let jobService: JobService | null = null;

  function cluster(): ClusterService {
    const target = resolveSshTarget(settings.settings().cluster);
    const key = JSON.stringify(target);
    if (current?.key === key) return current.service;
    current?.service.close();
    const session = new SshSession({
      target,
      prompt: deps.prompt,
      logger: deps.logger.child({ component: 'ssh' }),
      agentSocket: chooseAgent({ identityAgent: target.identityAgent, env: deps.env }),
      vault: {
        get: (host) => secrets.get(sshPassphraseName(host)),
        save: (host, pass) => secrets.set(sshPassphraseName(host), pass),
      },
    });
    session.on('state', (s) => deps.logger.info('ssh state', { state: s.kind, ...(s.kind === 'disconnected' && s.reason ? { reason: s.reason } : {}) }));
    // Only the current session speaks for the link: a replaced one closing is old news.
    session.on('state', (s) => { if (current?.service.ssh === session) status.publish({ ssh: sshLinkStatus(s) }); });
    current = { key, service: new ClusterService(session) };
    status.publish({ ssh: sshLinkStatus(session.state) });
    return current.service;
  }

  function db(): Db {
    database ??= openDatabase(path.join(deps.home, 'hpc-relay.db'), deps.sqliteNativeBinding ? { nativeBinding: deps.sqliteNativeBinding } : {});
    return database;
  }
  function jobs(): JobService {
    jobService ??= createJobService({ db: db(), cluster, settings: () => settings.settings(), logger: deps.logger.child({ component: 'jobs' }) });
    return jobService;
  }

  const checkDeps = { settings, secrets, cluster, keychainError: deps.keychainError };
  // A passing events-file probe is kept for an hour, so doctor runs from the window or Slack do not submit a job each time.
  const probeCache = new Map<string, { at: number; result: CheckResult }>();
  const doctorChecks = () => [
    ...settingsChecks(checkDeps), ...clusterChecks(checkDeps), ...slurmChecks({ cluster, jobs, probeCache }),
    ...slackDoctorChecks({ settings, secrets, logger: deps.logger }), ...modelChecks({ settings, secrets }),
  ];

  return {
    home: deps.home,
    settings,
    secrets,
    logger: deps.logger,
    registry: deps.registry,
    status,
    notifier: deps.notifier ?? null,
    sqliteNativeBinding: deps.sqliteNativeBinding,
    cluster,
    db,
    jobs,
    doctorChecks,
    doctor: () => runDoctor(doctorChecks()),
    async close() {
      current?.service.close();
      current = null;
      jobService = null;
      database?.close();
      database = null;
    },
  };
}
