import { useId, useState } from 'react';
import type { SecretStatusView, SettingEntry } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { ProblemText } from '../../components/ProblemText';
import { problemOf, usePolled } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';

/** Every setting (validated by the core as it is saved) and where each secret comes from. */
export function SettingsScreen() {
  const settings = usePolled(() => call(hpc().settingsGet()), null);
  const secrets = usePolled(() => call(hpc().secretsStatus()), null);
  const headingId = useId();
  return (
    <section className="panel" aria-labelledby={headingId}>
      <div className="panel-header">
        <div>
          <h2 id={headingId} tabIndex={-1}>
            Settings
          </h2>
          <p className="muted">{settings.value ? `Stored in ${settings.value.path}; the CLI reads the same file.` : ' '}</p>
        </div>
      </div>
      {settings.problem && <ProblemText problem={settings.problem} />}
      {settings.value && settings.value.problems.length > 0 && (
        <div className="problem" role="alert">
          {settings.value.problems.map((p) => (
            <p key={p.key}>{p.message}</p>
          ))}
        </div>
      )}
      {settings.value && (
        <ul className="settings" aria-label="Settings">
          {settings.value.entries.map((e) => (
            <SettingRow key={e.key} entry={e} onSaved={() => void settings.reload()} />
          ))}
        </ul>
      )}
      <section className="subsection" aria-label="Secrets">
        <h3>Secrets</h3>
        {secrets.problem && <ProblemText problem={secrets.problem} />}
        <ul className="settings">
          {(secrets.value ?? []).map((s) => (
            <SecretRow key={s.name} secret={s} onChanged={() => void secrets.reload()} />
          ))}
        </ul>
      </section>
    </section>
  );
}

function display(v: SettingEntry['value']): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function SettingRow({ entry, onSaved }: { entry: SettingEntry; onSaved: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const id = useId();
  const helpId = useId();
  const errId = useId();
  const isBool = typeof entry.value === 'boolean' || entry.expected === 'true or false';
  // Numbers and lists are typed as JSON (["U012ABCDEF"], 60); everything else is text as typed.
  const typedAsJson = typeof entry.value === 'number' || Array.isArray(entry.value) || /number|JSON list/.test(entry.expected);

  async function save(value: unknown): Promise<void> {
    setProblem(null);
    try {
      await call(hpc().settingsSet(entry.key, value as SettingEntry['value']));
      setText(null);
      onSaved();
    } catch (e) {
      setProblem(problemOf(e));
    }
  }

  async function reset(): Promise<void> {
    setProblem(null);
    try {
      await call(hpc().settingsUnset(entry.key));
      setText(null);
      onSaved();
    } catch (e) {
      setProblem(problemOf(e));
    }
  }

  /** Lists and numbers are typed as JSON; anything that is not JSON is taken as text. */
  function parse(t: string): unknown {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return t;
    }
  }

  return (
    <li className="setting" data-key={entry.key}>
      <div className="setting-text">
        <label htmlFor={id} className="setting-key">
          {entry.key}
        </label>
        <p id={helpId} className="hint">
          {entry.description} <span className="expects">({entry.expected}{entry.isSet ? '' : '; default'})</span>
        </p>
      </div>
      <div className="setting-edit">
        {isBool ? (
          <input id={id} type="checkbox" aria-describedby={helpId} checked={entry.value === true} onChange={(e) => void save(e.target.checked)} />
        ) : (
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (text !== null) void save(typedAsJson ? parse(text) : text);
            }}
          >
            <input
              id={id}
              value={text ?? display(entry.value)}
              spellCheck={false}
              aria-describedby={problem ? `${helpId} ${errId}` : helpId}
              aria-invalid={problem ? true : undefined}
              onChange={(e) => setText(e.target.value)}
            />
            <button type="submit" className="secondary small" disabled={text === null}>
              Save
            </button>
          </form>
        )}
        {entry.isSet && (
          <button type="button" className="secondary small" onClick={() => void reset()} aria-label={`Reset ${entry.key} to its default`}>
            Reset
          </button>
        )}
      </div>
      {problem && <ProblemText problem={problem} id={errId} />}
    </li>
  );
}

const SOURCE_TEXT: Record<SecretStatusView['source'], string> = {
  env: 'from the environment',
  keychain: 'in the keychain',
  unset: 'not set',
  'keychain-unavailable': 'keychain unavailable',
};

function SecretRow({ secret, onChanged }: { secret: SecretStatusView; onChanged: () => void }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const id = useId();

  async function run(what: () => Promise<unknown>): Promise<void> {
    setProblem(null);
    try {
      await what();
      setValue('');
      onChanged();
    } catch (e) {
      setProblem(problemOf(e));
    }
  }

  return (
    <li className="setting">
      <div className="setting-text">
        <label htmlFor={id} className="setting-key">
          {secret.label}
        </label>
        <p className="hint">
          {SOURCE_TEXT[secret.source]}
          {secret.detail ? ` (${secret.detail})` : ''}
        </p>
      </div>
      <div className="setting-edit">
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (value) void run(() => call(hpc().secretsSet(secret.name, value)));
          }}
        >
          <input id={id} type="password" autoComplete="off" value={value} placeholder={secret.source === 'keychain' ? 'replace…' : 'paste…'} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" className="secondary small" disabled={!value}>
            Save
          </button>
        </form>
        {secret.source === 'keychain' && (
          <button type="button" className="secondary small" aria-label={`Delete the ${secret.label}`} onClick={() => void run(() => call(hpc().secretsDelete(secret.name)))}>
            Delete
          </button>
        )}
      </div>
      {problem && <ProblemText problem={problem} />}
    </li>
  );
}
