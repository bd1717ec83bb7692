import type { AgentRunner } from '../cron/ports.js';
import { cronServiceFor } from '../cron/cron-runtime.js';
import { RelayError, describeError } from '../errors.js';
import type { Core } from '../index.js';
import type { ServiceFactory } from '../runtime/runtime.js';
import type { Agent } from './agent.js';
import { createAgent } from './index.js';
import type { ThreadFile, ThreadPoster, ThreadRef } from './ports.js';
import type { AgentServices } from './services.js';
import { forwardJobEnds } from './wiring.js';

/**
 * One agent per core, shared by everything in the process that talks to it (Slack's free text
 * and usage, cron's prompt monitors, the job service's end events), so its per-conversation
 * queues and research-loop decisions are never split between two instances over one database.
 */
interface Entry {
  agent: Agent;
  poster: { target: ThreadPoster | null };
}

const agents = new WeakMap<Core, Entry>();

function nowhere(): RelayError {
  return new RelayError('SLACK_STOPPED', 'The agent has nowhere to post: no Slack gateway or terminal is attached to it.', {
    fix: 'Turn Slack on (slack.enabled, then `hpc-relay doctor`); research updates go to the thread the loop was started in.',
  });
}

function entry(core: Core, services?: AgentServices): Entry {
  let e = agents.get(core);
  if (!e) {
    const poster: Entry['poster'] = { target: null };
    const forward: ThreadPoster = {
      async post(where: ThreadRef, text: string) {
        if (!poster.target) throw nowhere();
        await poster.target.post(where, text);
      },
      async postFile(where: ThreadRef, file: ThreadFile) {
        if (!poster.target) throw nowhere();
        // A target that takes no files (the terminal): the text it was posted with stands alone.
        await poster.target.postFile?.(where, file);
      },
    };
    const agent = createAgent(core, { db: core.db(), poster: forward, jobs: core.jobs(), ...(services ? { services } : {}) });
    e = { agent, poster };
    agents.set(core, e);
  }
  return e;
}

/** The core's agent, made on first use over core.db() and core.jobs(). `services` replaces the cluster adapter (tests; first call only). */
export function agentFor(core: Core, opts: { services?: AgentServices } = {}): Agent {
  return entry(core, opts.services).agent;
}

/** Where the core's agent posts job summaries and research updates (Slack's thread poster in the app and the daemon). */
export function setAgentPoster(core: Core, poster: ThreadPoster | null): void {
  entry(core).poster.target = poster;
}

export interface AgentServiceOptions {
  /** Where the agent posts outside a conversation (e.g. `(core) => slackHub(core).threadPoster`). */
  poster: (core: Core) => ThreadPoster;
  /** Replaces the cluster adapter (tests). */
  services?: (core: Core) => AgentServices;
}

/**
 * The agent as a runtime service (the tray app and `hpc-relay daemon`): job ends finalised by the
 * job service reach it (forwardJobEnds), research loops carry on after a restart (resume), and
 * cron's prompt monitors run through it. Declines while no cluster is configured, like the job
 * service. It calls no model by itself: only job ends of the agent's own jobs and research rounds do.
 */
export function makeAgentServiceFactory(opts: AgentServiceOptions): ServiceFactory {
  return async (core) => {
    if (!core.settings.settings().cluster.host) return null;
    const agent = agentFor(core, opts.services ? { services: opts.services(core) } : {});
    const log = core.logger.child({ component: 'agent' });
    let detach: (() => void) | null = null;
    const runner: AgentRunner = agent.promptRunner();
    return {
      name: 'agent',
      async start() {
        setAgentPoster(core, opts.poster(core));
        detach = forwardJobEnds(agent, core.jobs().tracker, log);
        cronServiceFor(core).attach({ agent: runner });
        await agent.resume().catch((e: unknown) => log.warn('research loops not resumed', { err: describeError(e) }));
      },
      async stop() {
        detach?.();
        detach = null;
        cronServiceFor(core).attach({ agent: undefined });
      },
      restartOn: ['cluster.host'],
    };
  };
}
