import type { Problem } from '../lib/hooks';

/** An error's sentence and its fix, as text (it may quote a server). */
export function ProblemText({ problem, id }: { problem: Problem; id?: string }) {
  return (
    <div className="problem" role="alert" id={id}>
      <p>{problem.message}</p>
      {problem.fix && (
        <p className="fix">
          <span className="fix-label">Fix: </span>
          {problem.fix}
        </p>
      )}
    </div>
  );
}
