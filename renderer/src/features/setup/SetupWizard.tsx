import { useState } from 'react';
import type { Go } from '../../App';
import { usePolled } from '../../lib/hooks';
import { call, hpc } from '../../api';
import { Panel } from '../../components/Panel';
import { ClusterStep } from './ClusterStep';
import { ModelStep } from './ModelStep';
import { SlackStep } from './SlackStep';

export type SetupStepId = 'cluster' | 'slack' | 'model';

const STEPS: { id: SetupStepId; label: string }[] = [
  { id: 'cluster', label: 'Cluster' },
  { id: 'slack', label: 'Slack' },
  { id: 'model', label: 'Model' },
];

export interface StepProps {
  /** Go on to the next step (or, after the last, to the jobs). */
  next: () => void;
  /** The step's settings changed: the step list's ticks are checked again. */
  changed: () => void;
}

/**
 * First-run setup in three steps — cluster, Slack, model — each skippable and open again any
 * time from the step list (or from the doctor's fix buttons).
 */
export function SetupWizard({ initialStep, go }: { initialStep: SetupStepId; go: Go }) {
  const [step, setStep] = useState<SetupStepId>(initialStep);
  const done = usePolled(async () => {
    const s = await call(hpc().settingsGet());
    const val = (k: string) => s.entries.find((e) => e.key === k);
    return {
      cluster: val('cluster.host')?.isSet === true,
      slack: val('slack.enabled')?.value === true,
      model: val('llm.enabled')?.isSet === true,
    } satisfies Record<SetupStepId, boolean>;
  }, null);

  const index = STEPS.findIndex((s) => s.id === step);
  const next = () => {
    const following = STEPS[index + 1];
    if (following) setStep(following.id);
    else go({ screen: 'jobs' });
  };
  const props: StepProps = { next, changed: () => void done.reload() };

  return (
    <Panel title="Setup" intro="Three steps from installed to your first job reported in Slack. Skip any; come back any time.">
      <ol className="stepper" aria-label="Setup steps">
        {STEPS.map((s, i) => (
          <li key={s.id}>
            <button type="button" className="step-tab" aria-current={s.id === step ? 'step' : undefined} onClick={() => setStep(s.id)}>
              <span className="step-number" aria-hidden="true">
                {done.value?.[s.id] ? '✓' : i + 1}
              </span>
              {s.label}
              {done.value?.[s.id] && <span className="visually-hidden"> (set up)</span>}
            </button>
          </li>
        ))}
      </ol>
      <div className="step-body">
        {step === 'cluster' && <ClusterStep {...props} />}
        {step === 'slack' && <SlackStep {...props} />}
        {step === 'model' && <ModelStep {...props} />}
      </div>
    </Panel>
  );
}
