import { useId, useState } from 'react';
import type { DoctorCheck } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { ProblemText } from '../../components/ProblemText';
import { CheckList } from '../../components/CheckList';
import { Field, Form } from '../../components/Field';
import { problemOf, unlessTyped, usePolled, useSettingsOnce } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import type { StepProps } from './SetupWizard';
import { Step, StepActions } from './Step';

const SLACK_NEW_APP = 'https://api.slack.com/apps?new_app=1';

/** The two tokens the Slack app gives, by form field: the keychain entry each goes to, and where Slack shows it. */
const TOKENS = [
  { field: 'bot', secret: 'slack-bot-token', label: 'Bot token (xoxb-…, from OAuth & Permissions)' },
  { field: 'app', secret: 'slack-app-token', label: 'App-level token (xapp-…, Basic Information → App-Level Tokens, with connections:write)' },
] as const;

/**
 * Step 2: create the Slack app from the manifest, paste its two tokens (checked by the core as
 * they are stored, then live against Slack), choose where reports go and who may use it.
 */
export function SlackStep({ next, changed }: StepProps) {
  const manifest = usePolled(() => call(hpc().slackManifest()), null);
  const [tokens, setTokens] = useState({ bot: '', app: '' });
  const [tokenProblems, setTokenProblems] = useState<{ bot: Problem | null; app: Problem | null }>({ bot: null, app: null });
  const [channel, setChannel] = useState('');
  const [users, setUsers] = useState('');
  const [checks, setChecks] = useState<DoctorCheck[] | null>(null);
  const [busy, setBusy] = useState<null | 'save' | 'check' | 'test'>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const manifestId = useId();

  useSettingsOnce((get) => {
    const ch = get('slack.homeChannel')?.value;
    const allowed = get('slack.allowedUsers')?.value;
    // Only into fields the user has not typed in yet (the answer can come late).
    if (typeof ch === 'string') setChannel(unlessTyped(ch));
    if (Array.isArray(allowed)) setUsers(unlessTyped(allowed.filter((u) => typeof u === 'string').join(', ')));
  });

  async function copyManifest(): Promise<void> {
    if (!manifest.value) return;
    try {
      await navigator.clipboard.writeText(manifest.value);
      setCopied('Copied. In Slack: Create New App → From a manifest → paste.');
    } catch {
      setCopied('The clipboard is not available here: select the manifest below and copy it.');
    }
  }

  /** Stores what was typed; every value is validated by the core. */
  async function save(): Promise<boolean> {
    setProblem(null);
    const problems = { bot: null as Problem | null, app: null as Problem | null };
    for (const { field, secret: name } of TOKENS) {
      const value = tokens[field].trim();
      if (!value) continue;
      try {
        await call(hpc().secretsSet(name, value));
        setTokens((t) => ({ ...t, [field]: '' }));
      } catch (e) {
        problems[field] = problemOf(e);
      }
    }
    setTokenProblems(problems);
    if (problems.bot || problems.app) return false;
    try {
      if (channel.trim()) await call(hpc().settingsSet('slack.homeChannel', channel.trim()));
      const list = users.split(/[\s,]+/).filter(Boolean);
      await call(hpc().settingsSet('slack.allowedUsers', list));
      await call(hpc().settingsSet('slack.enabled', true));
      changed();
      return true;
    } catch (e) {
      setProblem(problemOf(e));
      return false;
    }
  }

  async function check(events: boolean): Promise<void> {
    setBusy(events ? 'test' : 'check');
    try {
      if (await save()) setChecks(await call(hpc().slackCheck({ events })));
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(null);
    }
  }

  const manifestUrl = manifest.value ? `${SLACK_NEW_APP}&manifest_json=${encodeURIComponent(manifest.value)}` : SLACK_NEW_APP;

  return (
    <Step title="Slack" intro="Drive jobs from Slack and get each job’s end reported there. HPC Relay connects out (Socket Mode): nothing on your laptop is exposed.">

      <h4>1. Create the Slack app</h4>
      <p>
        Create it from HPC Relay’s manifest (it asks for exactly the scopes and events the relay uses), then install it to your workspace.
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void copyManifest()} disabled={!manifest.value}>
          Copy the manifest
        </button>
        <a className="button-link" href={manifestUrl} target="_blank" rel="noreferrer">
          Open api.slack.com with it
        </a>
      </div>
      {copied && <p className="hint">{copied}</p>}
      <details className="manifest">
        <summary>Show the manifest</summary>
        <label htmlFor={manifestId} className="visually-hidden">
          Slack app manifest
        </label>
        <textarea id={manifestId} readOnly rows={10} value={manifest.value ?? ''} spellCheck={false} />
      </details>

      <h4>2. Paste the two tokens</h4>
      <Form onSubmit={() => void check(false)}>
        {TOKENS.map(({ field, label }) => (
          <Field key={field} label={label} error={tokenProblems[field]}>
            {(control) => <input {...control} type="password" autoComplete="off" value={tokens[field]} onChange={(e) => setTokens({ ...tokens, [field]: e.target.value })} />}
          </Field>
        ))}
        <p className="hint">Tokens go to your OS keychain; they are never shown again or written to a file.</p>

        <h4>3. Where reports go, and who may use it</h4>
        <Field label="Home channel (ID such as C012ABCDEF, or #name)">
          {(control) => <input {...control} value={channel} spellCheck={false} onChange={(e) => setChannel(e.target.value)} />}
        </Field>
        <Field label="Allowed Slack users" help="Member IDs, separated by commas: start with yourself (your Slack profile → ⋮ → Copy member ID). Everyone else is refused.">
          {(control) => <input {...control} value={users} spellCheck={false} placeholder="U012ABCDEF" onChange={(e) => setUsers(e.target.value)} />}
        </Field>
        <StepActions next={next} done={checks?.every((c) => c.ok) === true} doneLabel="Next: Model">
          <button type="submit" disabled={busy !== null}>
            {busy === 'check' ? 'Checking…' : 'Save and check'}
          </button>
          <button type="button" className="secondary" disabled={busy !== null} onClick={() => void check(true)}>
            {busy === 'test' ? 'Sending…' : 'Send a test message'}
          </button>
        </StepActions>
      </Form>
      {problem && <ProblemText problem={problem} />}
      {checks && <CheckList checks={checks} label="Slack checks" />}
    </Step>
  );
}
