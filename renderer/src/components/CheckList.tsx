import type { DoctorCheck } from '../../../preload/contract';

/** Check results as ✓/✗ rows with their message and fix, all as text. */
export function CheckList({ checks, label }: { checks: DoctorCheck[]; label: string }) {
  return (
    <ul className="checks" aria-label={label}>
      {checks.map((c) => (
        <li key={c.id} className={c.ok ? 'check ok' : 'check failed'} data-check-id={c.id}>
          <span className="check-mark" role="img" aria-label={c.ok ? 'passed' : 'failed'}>
            {c.ok ? '✓' : '✗'}
          </span>
          <div className="check-text">
            {c.title && <p className="check-title">{c.title}</p>}
            <p className="check-message">{c.message}</p>
            {!c.ok && c.fix && (
              <p className="fix">
                <span className="fix-label">Fix: </span>
                {c.fix}
              </p>
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}
