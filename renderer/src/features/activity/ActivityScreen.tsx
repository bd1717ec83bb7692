import { useId, useMemo, useState } from 'react';
import type { ActivityItem, ApprovalView } from '../../../../preload/contract';
import type { Go } from '../../App';
import { call, hpc } from '../../api';
import { Loadable } from '../../components/Loadable';
import { Panel } from '../../components/Panel';
import { ProblemText } from '../../components/ProblemText';
import { formatTime, relativeTime } from '../../lib/format';
import { problemOf } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import { anyJob, approvalsChanged, useLive } from '../../lib/live';

type Kind = 'all' | ActivityItem['kind'];

const KINDS: { id: Kind; label: string }[] = [
  { id: 'all', label: 'Everything' },
  { id: 'notification', label: 'Notifications' },
  { id: 'agent', label: 'Agent actions' },
  { id: 'job', label: 'Job changes' },
];

/**
 * What happened, newest first: notifications sent (tray, Slack), the agent's actions with their
 * approvals (its audit log) and job state changes. All of it is untrusted text, shown as text.
 */
export function ActivityScreen({ go }: { go: Go }) {
  // Job changes and decided approvals (audited) are in the feed; pending approvals come and go as main says.
  const items = useLive(() => call(hpc().activityList()), (c) => anyJob(c) || approvalsChanged(c));
  const approvals = useLive(() => call(hpc().approvalsList()), approvalsChanged);
  const [kind, setKind] = useState<Kind>('all');
  const filterId = useId();
  const shown = useMemo(() => (items.value ?? []).filter((i) => kind === 'all' || i.kind === kind), [items.value, kind]);

  const filter = (
    <div>
      <label htmlFor={filterId} className="visually-hidden">
        Show
      </label>
      <select id={filterId} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
        {KINDS.map((k) => (
          <option key={k.id} value={k.id}>
            {k.label}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <Panel title="Activity" intro="Notifications, agent actions and job state changes." actions={filter}>
      <PendingApprovals
        approvals={approvals.value ?? []}
        problem={approvals.problem}
        onDecided={async () => {
          await Promise.all([approvals.reload(), items.reload()]);
        }}
      />
      <Loadable loaded={items} empty="Nothing yet." isEmpty={() => shown.length === 0}>
        {() => (
          <ol className="feed" aria-label="Activity">
            {shown.map((item) => (
              <li key={item.id} className={`feed-item feed-${item.kind}`}>
                <time className="muted" dateTime={new Date(item.at).toISOString()}>
                  {formatTime(item.at)}
                </time>
                <FeedBody item={item} go={go} />
              </li>
            ))}
          </ol>
        )}
      </Loadable>
    </Panel>
  );
}

/**
 * Actions waiting for a person's yes (asked in Slack by the agent or a command), with Approve and
 * Deny. Decided once wherever it is clicked first; the outcome sentence is announced. The summary
 * and detail are untrusted text (model output, job names): React text, never HTML.
 */
function PendingApprovals({ approvals, problem, onDecided }: { approvals: ApprovalView[]; problem: Problem | null; onDecided: () => Promise<void> }) {
  const headingId = useId();
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);
  // The core lists only approvals still open: an expired one leaves when main says so.
  const shown = approvals;

  async function decide(a: ApprovalView, approve: boolean): Promise<void> {
    setBusy(a.id);
    setActionProblem(null);
    setOutcome(null);
    try {
      const r = await call(hpc().approvalsDecide(a.id, approve));
      setOutcome(r.text);
    } catch (e) {
      setActionProblem(problemOf(e));
    } finally {
      setBusy(null);
      await onDecided();
    }
  }

  return (
    <section className="subsection approvals" aria-labelledby={headingId}>
      <h3 id={headingId}>Waiting for approval{shown.length > 0 ? ` (${shown.length})` : ''}</h3>
      {problem && <ProblemText problem={problem} />}
      {shown.length === 0 && !problem && <p className="muted">Nothing waits for a decision. Actions that change the cluster are asked about here and in Slack.</p>}
      {shown.length > 0 && (
        <ul className="approvals-list" aria-label="Pending approvals">
          {shown.map((a) => (
            <ApprovalRow key={a.id} a={a} busy={busy === a.id} onDecide={(approve) => void decide(a, approve)} />
          ))}
        </ul>
      )}
      <p className="muted" role="status" aria-live="polite">
        {outcome ?? ''}
      </p>
      {actionProblem && <ProblemText problem={actionProblem} />}
    </section>
  );
}

function ApprovalRow({ a, busy, onDecide }: { a: ApprovalView; busy: boolean; onDecide: (approve: boolean) => void }) {
  const summaryId = useId();
  return (
    <li className="approval" data-approval-id={a.id}>
      <div className="approval-text">
        <p className="approval-summary" id={summaryId}>
          {a.summary}
        </p>
        {a.detail && <pre className="feed-pre">{a.detail}</pre>}
        <p className="muted">
          Asked by {a.requestedBy} · expires {relativeTime(a.expiresAt)}
        </p>
      </div>
      <div className="actions">
        <button type="button" disabled={busy} aria-describedby={summaryId} onClick={() => onDecide(true)}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} aria-describedby={summaryId} onClick={() => onDecide(false)}>
          Deny
        </button>
      </div>
    </li>
  );
}

function JobLink({ jobId, go }: { jobId: string; go: Go }) {
  return (
    <button type="button" className="link-button" onClick={() => go({ screen: 'jobs', jobId })}>
      job {jobId}
    </button>
  );
}

function FeedBody({ item, go }: { item: ActivityItem; go: Go }) {
  switch (item.kind) {
    case 'notification':
      return (
        <div className="feed-body">
          <p>
            <span className="feed-kind">{item.channel === 'slack' ? 'Slack' : item.channel === 'tray' ? 'Desktop' : item.channel}</span> {item.title}
          </p>
          {item.body && <p className="muted pre">{item.body}</p>}
          <p className="muted">
            <JobLink jobId={item.jobId} go={go} /> · {item.delivered ? 'delivered' : item.error ? `not delivered: ${item.error}` : 'waiting to be delivered'}
          </p>
        </div>
      );
    case 'agent':
      return (
        <div className="feed-body">
          <p>
            <span className="feed-kind">{item.tool === 'approval' ? 'Approval' : 'Agent'}</span> {item.tool === 'approval' ? '' : item.tool} <span className={`badge decision-${item.decision}`}>{item.decision}</span>
            {item.approvedBy && <span className="muted"> by {item.approvedBy}</span>}
            {item.isError && <span className="badge state-failed">error</span>}
          </p>
          <pre className="feed-pre">{item.input}</pre>
          {item.output && (
            <details>
              <summary>Result</summary>
              <pre className="feed-pre">{item.output}</pre>
            </details>
          )}
        </div>
      );
    case 'job':
      return (
        <div className="feed-body">
          <p>
            <span className="feed-kind">Job</span> <JobLink jobId={item.jobId} go={go} /> {item.from ? `${item.from} → ` : ''}
            {item.to} <span className="muted">(from {item.source})</span>
          </p>
        </div>
      );
  }
}
