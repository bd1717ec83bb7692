/**
 * The agent (main/core/agent): free-form requests as a tool-use loop on @anthropic-ai/sdk, the
 * approval guard, per-thread conversations, cost control, end-of-job summaries and research loops.
 * Ports: AgentServices (services.ts: what tools may do), Approver and ThreadPoster (ports.ts).
 */
import type { Core } from '../index.js';
import type { Clock } from '../ports.js';
import type { JobsApi } from '../slack/jobs-api.js';
import type { Db } from '../store/database.js';
import { AgentStore } from '../store/agent-store.js';
import { templatesDir } from '../templates/index.js';
import { Agent, type AgentDeps } from './agent.js';
import { ClusterAgentServices, type MonitorCreator } from './cluster-services.js';
import type { ModelGatewayOptions } from './llm.js';
import type { AgentSettings, ThreadPoster } from './ports.js';
import type { AgentServices } from './services.js';

export { Agent, ENABLE_HINT, slackConversationId, type AgentDeps, type AskOptions, type AskResult, type PromptRunner, type UsageReport } from './agent.js';
export { TerminalApprover, slackApprover } from './approvers.js';
export { ClusterAgentServices, type ClusterAgentServicesDeps, type MonitorCreator } from './cluster-services.js';
export { classifyCommand, READ_ONLY_COMMANDS, type CommandVerdict } from './guard.js';
export { ModelGateway, monthStart, type BudgetStatus, type ModelGatewayOptions } from './llm.js';
export { NO_APPROVER, type AgentSettings, type ApprovalAsk, type ApprovalDecision, type Approver, type FinishedJob, type ThreadFile, type ThreadPoster, type ThreadRef } from './ports.js';
export { FALLBACK_PRICING, costUsd, formatUsd, pricingFor } from './pricing.js';
export { GOAL_EXAMPLE, parseGoal, type ResearchGoal } from './research-goal.js';
export type * from './services.js';

export function agentSettings(core: Pick<Core, 'settings'>): AgentSettings {
  const l = core.settings.settings().llm;
  return { enabled: l.enabled, model: l.model, baseUrl: l.baseUrl, maxTurns: l.maxTurns, monthlyBudgetUsd: l.monthlyBudgetUsd };
}

export interface CreateAgentOptions {
  db: Db;
  poster: ThreadPoster;
  /** The job service, when there is one (submit/cancel/resubmit go through it). */
  jobs?: JobsApi;
  monitors?: MonitorCreator;
  /** Replaces the cluster adapter (tests). */
  services?: AgentServices;
  templatesDir?: string;
  clock?: Clock;
  model?: ModelGatewayOptions;
  contextTokens?: number;
}

/** The agent over a core: its settings and secret, its cluster, the store in `db`. */
export function createAgent(core: Pick<Core, 'settings' | 'secrets' | 'registry' | 'logger' | 'cluster'>, o: CreateAgentOptions): Agent {
  const store = new AgentStore(o.db, core.registry);
  const services = o.services ?? new ClusterAgentServices({
    cluster: () => core.cluster(), templatesDir: o.templatesDir ?? (() => templatesDir()), store,
    ...(o.jobs ? { jobs: o.jobs } : {}), ...(o.monitors ? { monitors: o.monitors } : {}),
  });
  const deps: AgentDeps = {
    store,
    services,
    settings: () => agentSettings(core),
    apiKey: () => core.secrets.get('anthropic-api-key'),
    poster: o.poster,
    registry: core.registry,
    logger: core.logger,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.model ? { model: o.model } : {}),
    ...(o.contextTokens ? { contextTokens: o.contextTokens } : {}),
  };
  return new Agent(deps);
}
export { finishedJob, forwardJobEnds, type JobEndSource } from './wiring.js';
