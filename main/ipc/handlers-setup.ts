/**
 * The setup wizard's channels over the core: the SSH config's hosts, the staged connection test
 * and host-key trust, the Slack manifest and checks, and the model check. No Electron here.
 */
import type { ChannelsFor, ClusterCandidate, DoctorCheck } from '../../preload/contract.js';
import { validateSetting } from '../core/config/settings.js';
import type { Core } from '../core/index.js';
import { runDoctor } from '../core/doctor/doctor.js';
import { ConnectionTest } from '../core/setup/connection-test.js';
import { checkModel } from '../core/setup/model-check.js';
import { listSshHosts } from '../core/setup/ssh-hosts.js';
import { slackChecks } from '../core/slack/checks.js';
import { slackAppManifest } from '../core/slack/manifest.js';
import type { InvokeHandler } from './invoke.js';

type SetupChannel = 'cluster:hosts' | 'cluster:test' | 'cluster:trustHostKey' | 'slack:manifest' | 'slack:check' | 'model:check';
export type SetupHandlers = { [C in Extract<ChannelsFor<'window'>, SetupChannel>]: InvokeHandler<C> };

export interface SetupHandlerDeps {
  core(): Promise<Core>;
}

function connectionTest(core: Core): ConnectionTest {
  return new ConnectionTest({ cluster: () => core.settings.settings().cluster, service: () => core.cluster() });
}

export function setupHandlers({ core }: SetupHandlerDeps): SetupHandlers {
  return {
    'cluster:hosts': async () => listSshHosts((await core()).settings.settings().cluster.sshConfigFile),
    'cluster:test': async (stage, candidate) => connectionTest(await core()).run(stage, checkedCandidate(candidate)),
    'cluster:trustHostKey': async (fingerprint, candidate) => connectionTest(await core()).trustHostKey(fingerprint, checkedCandidate(candidate)),
    'slack:manifest': () => `${JSON.stringify(slackAppManifest(), null, 2)}\n`,
    'slack:check': async ({ events }) => {
      const c = await core();
      const report = await runDoctor(slackChecks({ settings: c.settings, secrets: c.secrets, logger: c.logger }, { events }));
      return report.checks.map(checkView);
    },
    'model:check': async () => {
      const c = await core();
      const llm = c.settings.settings().llm;
      const r = await checkModel({ apiKey: await c.secrets.get('anthropic-api-key'), model: llm.model, baseUrl: llm.baseUrl });
      return { id: 'model.key', title: 'Model API key', ok: r.ok, message: r.message, fix: r.ok ? null : r.fix };
    },
  };
}

/** A candidate host must be what the settings would accept (the same coded errors as saving it). */
function checkedCandidate(c: ClusterCandidate | null): ClusterCandidate | null {
  if (!c) return null;
  validateSetting('cluster.host', c.host);
  if (c.user !== undefined) validateSetting('cluster.user', c.user);
  if (c.port !== undefined) validateSetting('cluster.port', c.port);
  return c;
}

function checkView({ id, title, ok, message, fix }: DoctorCheck & { title: string }): DoctorCheck {
  return { id, title, ok, message, fix };
}
