import { useId, useMemo, useRef, useState } from 'react';
import type { ParamProblem, ParamSpecView, TemplateView } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { Dialog } from '../../components/Dialog';
import { Field, Form } from '../../components/Field';
import type { ControlProps } from '../../components/Field';
import { ProblemText } from '../../components/ProblemText';
import { problemOf, usePolled } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';

type Values = Record<string, string | boolean>;

function defaults(t: TemplateView): Values {
  return Object.fromEntries(t.params.map((p) => [p.name, p.type === 'bool' ? p.default === true : p.default === undefined ? '' : String(p.default)]));
}

/**
 * A job from a template: the form is made from the template's parameter schema (types → inputs,
 * ranges and defaults, help text), and the core's own validation shows under each field.
 */
export function SubmitDialog({ onClose, onSubmitted }: { onClose: () => void; onSubmitted: (jobId: string) => void }) {
  const templates = usePolled(() => call(hpc().templatesList()), null);
  const partitions = usePolled(() => call(hpc().clusterPartitions()), null);
  const [templateId, setTemplateId] = useState<string | null>(null);
  const [values, setValues] = useState<Values | null>(null);
  const [problems, setProblems] = useState<ParamProblem[]>([]);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [tried, setTried] = useState(false);
  const [failure, setFailure] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const ids = { partitions: useId() };

  const list = templates.value ?? [];
  const template = list.find((t) => t.id === templateId) ?? list.find((t) => t.id === 'cnn_train') ?? list[0] ?? null;
  const current = values ?? (template ? defaults(template) : {});

  const byParam = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const p of problems) if (p.param) m.set(p.param, [...(m.get(p.param) ?? []), p.message]);
    return m;
  }, [problems]);
  const general = problems.filter((p) => !p.param || !template?.params.some((s) => s.name === p.param));

  async function validate(v: Values): Promise<ParamProblem[]> {
    if (!template) return [];
    const found = await call(hpc().templatesValidate(template.id, v));
    setProblems(found);
    return found;
  }

  async function submit(): Promise<void> {
    if (!template) return;
    setTried(true);
    setFailure(null);
    setBusy(true);
    try {
      const found = await validate(current);
      if (found.length > 0) {
        const first = found.find((p) => p.param)?.param;
        if (first) formRef.current?.querySelector<HTMLElement>(`[data-param="${CSS.escape(first)}"]`)?.focus();
        return;
      }
      const r = await call(hpc().jobsSubmit(template.id, current));
      onSubmitted(r.jobId);
    } catch (e) {
      setFailure(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  const basic = template?.params.filter((p) => !p.advanced) ?? [];
  const advanced = template?.params.filter((p) => p.advanced) ?? [];
  const field = (p: ParamSpecView) => (
    <ParamField
      key={p.name}
      spec={p}
      value={current[p.name] ?? ''}
      errors={tried || touched.has(p.name) ? (byParam.get(p.name) ?? []) : []}
      partitionsList={p.sbatch === '--partition' ? ids.partitions : undefined}
      onChange={(v) => setValues({ ...current, [p.name]: v })}
      onBlur={() => {
        setTouched((t) => new Set(t).add(p.name));
        void validate(current).catch(() => undefined);
      }}
    />
  );

  return (
    <Dialog title="Submit a job" onClose={onClose} wide>
      {templates.problem && <ProblemText problem={templates.problem} />}
      {template && (
        <Form formRef={formRef} onSubmit={() => void submit()}>
          <Field label="Template" help={template.description}>
            {(control) => (
              <select
                {...control}
                value={template.id}
                onChange={(e) => {
                  // A different template starts from its own defaults.
                  setTemplateId(e.target.value);
                  setValues(null);
                  setProblems([]);
                  setTouched(new Set());
                  setTried(false);
                }}
              >
                {list.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.title} ({t.id})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="param-grid">{basic.map(field)}</div>
          {advanced.length > 0 && (
            <details className="advanced">
              <summary>Advanced ({advanced.length})</summary>
              <div className="param-grid">{advanced.map(field)}</div>
            </details>
          )}
          <datalist id={ids.partitions}>
            {(partitions.value ?? []).map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {general.length > 0 && (
            <div className="problem" role="alert">
              {general.map((p) => (
                <p key={p.message}>{p.message}</p>
              ))}
            </div>
          )}
          {failure && <ProblemText problem={failure} />}
          <div className="actions dialog-actions">
            <button type="submit" disabled={busy}>
              {busy ? 'Submitting…' : 'Submit'}
            </button>
            <button type="button" className="secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </Form>
      )}
    </Dialog>
  );
}

function ParamField(props: {
  spec: ParamSpecView;
  value: string | boolean;
  errors: string[];
  partitionsList: string | undefined;
  onChange: (v: string | boolean) => void;
  onBlur: () => void;
}) {
  const { spec, errors } = props;
  const label = `${spec.name}${spec.required ? ' (required)' : ''}`;
  const help = (
    <>
      {spec.help} <span className="expects">Expects {spec.expected}.</span>
    </>
  );
  return (
    <Field label={label} help={help} error={errors.join(' ')} className={spec.type === 'bool' ? 'field check-field' : 'field'}>
      {(control) => <ParamInput {...props} control={control} />}
    </Field>
  );
}

/** The input a parameter's type makes: a checkbox, a list of choices, or text (numbers typed as text, checked by the core). */
function ParamInput(props: { spec: ParamSpecView; value: string | boolean; partitionsList: string | undefined; control: ControlProps; onChange: (v: string | boolean) => void; onBlur: () => void }) {
  const { spec, value, control, onChange, onBlur } = props;
  const common = { ...control, 'data-param': spec.name, onBlur } as const;

  let input;
  if (spec.type === 'bool') {
    input = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  } else if (spec.type === 'enum') {
    input = (
      <select {...common} value={String(value)} onChange={(e) => onChange(e.target.value)}>
        {(spec.choices ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  } else {
    const mode = spec.type === 'int' ? 'numeric' : spec.type === 'float' ? 'decimal' : undefined;
    input = (
      <input
        type="text"
        {...common}
        inputMode={mode}
        spellCheck={false}
        autoComplete="off"
        required={spec.required}
        list={props.partitionsList}
        placeholder={spec.default === undefined || spec.default === '' ? undefined : String(spec.default)}
        value={String(value)}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }

  return input;
}
