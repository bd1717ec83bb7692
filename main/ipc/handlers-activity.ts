/**
 * The activity feed: notifications (the outbox: what went to the tray and Slack), the agent's
 * actions (its audit log) and job state changes, newest first. Everything here is untrusted text
 * (job names, model output, commands): the window renders it as text. No Electron here.
 */
import type { ActivityItem, ChannelsFor } from '../../preload/contract.js';
import type { Core } from '../core/index.js';
import { AgentStore } from '../core/store/agent-store.js';
import type { InvokeHandler } from './invoke.js';

export type ActivityHandlers = { [C in Extract<ChannelsFor<'window'>, `activity:${string}`>]: InvokeHandler<C> };

export interface ActivityHandlerDeps {
  core(): Promise<Core>;
}

/** Of each kind, at most this many of the newest. */
const PER_KIND = 200;
/** Tool input and output are cut to this many characters (a feed, not an archive). */
const TEXT_CAP = 2000;

const cut = (s: string) => (s.length > TEXT_CAP ? `${s.slice(0, TEXT_CAP)}…` : s);

export function activityHandlers({ core }: ActivityHandlerDeps): ActivityHandlers {
  return {
    'activity:list': async () => {
      const c = await core();
      const jobs = c.jobs();
      const items: ActivityItem[] = [];
      for (const n of jobs.outbox.all().slice(-PER_KIND)) {
        items.push({
          kind: 'notification', id: `n${n.id}`, at: n.createdAt, jobId: n.jobKey, title: n.title, body: cut(n.body), channel: n.channel,
          delivered: n.deliveredAt !== null, error: n.lastError,
        });
      }
      for (const a of new AgentStore(c.db(), c.registry).auditLog().slice(-PER_KIND)) {
        items.push({
          kind: 'agent', id: `a${a.id ?? a.at}`, at: a.at, tool: a.tool, input: cut(a.input), output: cut(a.output), decision: a.decision,
          approvedBy: a.approvedBy, isError: a.isError,
        });
      }
      const since = Math.max(0, jobs.store.lastTransitionId() - PER_KIND);
      for (const { id, t } of jobs.store.transitionsSince(since)) {
        items.push({ kind: 'job', id: `t${id}`, at: t.at, jobId: t.jobKey, from: t.from, to: t.to, source: t.source });
      }
      return items.sort((a, b) => b.at - a.at || b.id.localeCompare(a.id));
    },
  };
}
