import { useId, useRef, useState } from 'react';
import type { DoctorCheck } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { CheckList } from '../../components/CheckList';
import { Field, Form } from '../../components/Field';
import { ProblemText } from '../../components/ProblemText';
import { problemOf, unlessTyped, useSettingsOnce } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import type { StepProps } from './SetupWizard';
import { Step, StepActions } from './Step';

const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];

/**
 * Step 3: the agent for free-form Slack requests — an API key, a model, a monthly budget — or
 * "commands only": deterministic commands (status, tail, cancel, submit…) cost nothing.
 */
export function ModelStep({ next, changed }: StepProps) {
  const [mode, setMode] = useState<'agent' | 'commands'>('agent');
  const [apiKey, setApiKey] = useState('');
  const [model, setModel] = useState('');
  const [budget, setBudget] = useState('');
  const [check, setCheck] = useState<DoctorCheck | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { models: useId(), budgetHelp: useId() };

  // What is stored fills only what the user has not typed or chosen yet (the answer can come late).
  const modeChosen = useRef(false);
  useSettingsOnce((get) => {
    const m = get('llm.model')?.value;
    const b = get('llm.monthlyBudgetUsd')?.value;
    const enabled = get('llm.enabled');
    if (typeof m === 'string') setModel(unlessTyped(m));
    if (typeof b === 'number') setBudget(unlessTyped(String(b)));
    if (enabled?.isSet && enabled.value === false && !modeChosen.current) setMode('commands');
  });
  const choose = (m: 'agent' | 'commands') => {
    modeChosen.current = true;
    setMode(m);
  };

  async function save(): Promise<boolean> {
    setProblem(null);
    try {
      if (mode === 'commands') {
        await call(hpc().settingsSet('llm.enabled', false));
        changed();
        return true;
      }
      if (apiKey.trim()) {
        await call(hpc().secretsSet('anthropic-api-key', apiKey.trim()));
        setApiKey('');
      }
      if (model.trim()) await call(hpc().settingsSet('llm.model', model.trim()));
      if (budget.trim()) {
        const n = Number(budget.trim());
        if (!Number.isFinite(n)) throw new Error(`"${budget}" is not a number of dollars.`);
        await call(hpc().settingsSet('llm.monthlyBudgetUsd', n));
      }
      await call(hpc().settingsSet('llm.enabled', true));
      changed();
      return true;
    } catch (e) {
      setProblem(problemOf(e));
      return false;
    }
  }

  async function saveAndCheck(): Promise<void> {
    setBusy(true);
    try {
      if (!(await save())) return;
      if (mode === 'agent') setCheck(await call(hpc().modelCheck()));
      else next();
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Step title="Model" intro="Free-form requests in Slack (“train the CNN for 2 epochs with lr 0.01”) go to a model; every action that changes something asks you first.">
      <Form onSubmit={() => void saveAndCheck()}>
        <fieldset>
          <legend>How should Slack requests be handled?</legend>
          <div className="choices">
            <label className="choice">
              <input type="radio" name="model-mode" checked={mode === 'agent'} onChange={() => choose('agent')} />
              <span className="choice-title">Use the agent</span>
              <span className="muted">with your Anthropic API key</span>
            </label>
            <label className="choice">
              <input type="radio" name="model-mode" checked={mode === 'commands'} onChange={() => choose('commands')} />
              <span className="choice-title">Skip: commands only</span>
              <span className="muted">no model, no cost</span>
            </label>
          </div>
        </fieldset>
        {mode === 'agent' && (
          <>
            <Field label="API key (leave empty to keep the stored one)">
              {(control) => <input {...control} type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />}
            </Field>
            <div className="field-row">
              <Field label="Model">
                {(control) => (
                  <>
                    <input {...control} list={ids.models} value={model} spellCheck={false} onChange={(e) => setModel(e.target.value)} />
                    <datalist id={ids.models}>
                      {MODELS.map((m) => (
                        <option key={m} value={m} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              {/* Its hint is under the row, where there is room for it. */}
              <Field label="Monthly budget (USD)" className="field narrow" describedBy={ids.budgetHelp}>
                {(control) => <input {...control} inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} />}
              </Field>
            </div>
            <p id={ids.budgetHelp} className="hint">
              The agent stops with a clear message when the month’s spending reaches it.
            </p>
          </>
        )}
        <StepActions next={next} done={check?.ok === true} doneLabel="Finish">
          <button type="submit" disabled={busy}>
            {mode === 'agent' ? (busy ? 'Checking…' : 'Save and check the key') : 'Save: commands only'}
          </button>
        </StepActions>
      </Form>
      {problem && <ProblemText problem={problem} />}
      {check && <CheckList checks={[check]} label="Model check" />}
    </Step>
  );
}
