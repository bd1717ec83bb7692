import { useId, useState } from 'react';
import type { SecretStatusView, SettingEntry } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { Form, useControl } from '../../components/Field';
import { Loadable } from '../../components/Loadable';
import { Panel } from '../../components/Panel';
import { ProblemText } from '../../components/ProblemText';
import { useAction, usePolled } from '../../lib/hooks';

/** Every setting (validated by the core as it is saved) and where each secret comes from. */
export function SettingsScreen() {
  const settings = usePolled(() => call(hpc().settingsGet()), null);
  const secrets = usePolled(() => call(hpc().secretsStatus()), null);
  return (
    <Panel title="Settings" intro={settings.value ? `Stored in ${settings.value.path}; the CLI reads the same file.` : ' '}>
      <Loadable loaded={settings}>
        {(view) => (
          <>
            {view.problems.length > 0 && (
              <div className="problem" role="alert">
                {view.problems.map((p) => (
                  <p key={p.key}>{p.message}</p>
                ))}
              </div>
            )}
            <ul className="settings" aria-label="Settings">
              {view.entries.map((e) => (
                <SettingRow key={e.key} entry={e} onSaved={() => void settings.reload()} />
              ))}
            </ul>
          </>
        )}
      </Loadable>
      <section className="subsection" aria-label="Secrets">
        <h3>Secrets</h3>
        {secrets.problem && <ProblemText problem={secrets.problem} />}
        <ul className="settings">
          {(secrets.value ?? []).map((s) => (
            <SecretRow key={s.name} secret={s} onChanged={() => void secrets.reload()} />
          ))}
        </ul>
      </section>
    </Panel>
  );
}

function display(v: SettingEntry['value']): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function SettingRow({ entry, onSaved }: { entry: SettingEntry; onSaved: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const action = useAction();
  const problem = action.problem;
  const { id, helpId, errorId, control } = useControl({ help: true, error: problem !== null });
  const isBool = typeof entry.value === 'boolean' || entry.expected === 'true or false';
  // Numbers and lists are typed as JSON (["U012ABCDEF"], 60); everything else is text as typed.
  const typedAsJson = typeof entry.value === 'number' || Array.isArray(entry.value) || /number|JSON list/.test(entry.expected);

  /** Saves or resets the setting; the row shows the new value, or the core's sentence about it. */
  async function change(what: () => Promise<unknown>): Promise<void> {
    if (await action.run(what)) {
      setText(null);
      onSaved();
    }
  }
  const save = (value: unknown) => change(() => call(hpc().settingsSet(entry.key, value as SettingEntry['value'])));
  const reset = () => change(() => call(hpc().settingsUnset(entry.key)));

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
          <input {...control} type="checkbox" checked={entry.value === true} onChange={(e) => void save(e.target.checked)} />
        ) : (
          <Form
            className=""
            onSubmit={() => {
              if (text !== null) void save(typedAsJson ? parse(text) : text);
            }}
          >
            <input {...control} value={text ?? display(entry.value)} spellCheck={false} onChange={(e) => setText(e.target.value)} />
            <button type="submit" className="secondary small" disabled={text === null}>
              Save
            </button>
          </Form>
        )}
        {entry.isSet && (
          <button type="button" className="secondary small" onClick={() => void reset()} aria-label={`Reset ${entry.key} to its default`}>
            Reset
          </button>
        )}
      </div>
      {problem && <ProblemText problem={problem} id={errorId} />}
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
  const action = useAction();
  const id = useId();

  /** Stores or deletes the secret; the field empties once the keychain has it. */
  async function run(what: () => Promise<unknown>): Promise<void> {
    if (await action.run(what)) {
      setValue('');
      onChanged();
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
        <Form
          className=""
          onSubmit={() => {
            if (value) void run(() => call(hpc().secretsSet(secret.name, value)));
          }}
        >
          <input id={id} type="password" autoComplete="off" value={value} placeholder={secret.source === 'keychain' ? 'replace…' : 'paste…'} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" className="secondary small" disabled={!value}>
            Save
          </button>
        </Form>
        {secret.source === 'keychain' && (
          <button type="button" className="secondary small" aria-label={`Delete the ${secret.label}`} onClick={() => void run(() => call(hpc().secretsDelete(secret.name)))}>
            Delete
          </button>
        )}
      </div>
      {action.problem && <ProblemText problem={action.problem} />}
    </li>
  );
}
