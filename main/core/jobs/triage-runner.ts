import type { ClusterService } from '../cluster/cluster-service.js';
import type { Clock, Logger } from '../ports.js';
import type { TriageMode } from '../slurm/triage.js';
import type { JobStore } from '../store/job-store.js';
import type { ResubmitChanges, SubmitResult } from './job-service.js';

export interface TriageOutcome {
  jobKey: string;
  action: string;
  ok: boolean;
  result: string;
}

export interface TriageRunnerDeps {
  store: JobStore;
  clock: Clock;
  logger: Logger;
  mode: () => TriageMode;
  cluster: () => ClusterService;
  resubmit: (jobKey: string, changes: ResubmitChanges) => Promise<SubmitResult>;
}

/**
 * Carries out the triage actions JobStore.finalize decided (in the same transaction as the final
 * state): bump memory or time and resubmit, resubmit unchanged, or halt a sweep (in remediate
 * mode its still-pending jobs are cancelled). Each action is claimed before it runs, so two
 * processes never both resubmit; a crash mid-action loses it rather than doubling it.
 */
export async function runTriageActions(d: TriageRunnerDeps): Promise<TriageOutcome[]> {
  const done: TriageOutcome[] = [];
  for (const a of d.store.pendingTriageActions()) {
    if (!d.store.claimTriageAction(a.id, d.clock.now())) continue;
    let ok = true;
    let result: string;
    try {
      const changes = (a.detail.changes ?? {}) as { mem?: string; time?: string };
      if (a.action === 'bump-mem' || a.action === 'bump-time' || a.action === 'resubmit') {
        const r = await d.resubmit(a.jobKey, a.action === 'resubmit' ? {} : changes);
        result = `resubmitted as ${r.jobIds.join(', ')}`;
      } else if (a.action === 'halt') {
        const pending = d.store.sweepJobs(a.sweepId).filter((j) => !j.final && j.state === 'PENDING');
        if (d.mode() === 'remediate' && pending.length > 0) {
          await d.cluster().run(['scancel', ...pending.map((j) => j.jobKey)], { timeoutMs: 60_000 });
          result = `cancelled ${pending.length} pending job(s) of the sweep`;
        } else {
          result = 'sweep halted';
        }
      } else {
        result = 'nothing to do';
      }
    } catch (e) {
      ok = false;
      result = (e as Error).message;
      d.logger.warn('triage action failed', { job: a.jobKey, action: a.action, error: result });
    }
    d.store.finishTriageAction(a.id, ok, result, d.clock.now());
    done.push({ jobKey: a.jobKey, action: a.action, ok, result });
  }
  return done;
}
