import { useId, useMemo, useState } from 'react';
import type { ActivityItem } from '../../../../preload/contract';
import type { Go } from '../../App';
import { call, hpc } from '../../api';
import { ProblemText } from '../../components/ProblemText';
import { formatTime } from '../../lib/format';
import { usePolled } from '../../lib/hooks';

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
  const items = usePolled(() => call(hpc().activityList()), 5000);
  const [kind, setKind] = useState<Kind>('all');
  const headingId = useId();
  const filterId = useId();
  const shown = useMemo(() => (items.value ?? []).filter((i) => kind === 'all' || i.kind === kind), [items.value, kind]);

  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          <h2 id={headingId} tabIndex={-1}>
            Activity
          </h2>
          <p className="muted">Notifications, agent actions and job state changes.</p>
        </div>
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
      </div>
      {items.problem && <ProblemText problem={items.problem} />}
      {items.value && shown.length === 0 && <p className="empty">Nothing yet.</p>}
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
    </section>
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
            <span className="feed-kind">Agent</span> {item.tool} <span className={`badge decision-${item.decision}`}>{item.decision}</span>
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
