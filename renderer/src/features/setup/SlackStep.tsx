import { useEffect, useId, useState } from 'react';
import type { DoctorCheck } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { ProblemText } from '../../components/ProblemText';
import { CheckList } from '../../components/CheckList';
import { problemOf, usePolled } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import type { StepProps } from './SetupWizard';

const SLACK_NEW_APP = 'https://api.slack.com/apps?new_app=1';

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
  const ids = { bot: useId(), app: useId(), botErr: useId(), appErr: useId(), channel: useId(), users: useId(), usersHelp: useId(), manifest: useId() };

  useEffect(() => {
    let live = true;
    call(hpc().settingsGet())
      .then((s) => {
        if (!live) return;
        const get = (k: string) => s.entries.find((e) => e.key === k)?.value;
        const ch = get('slack.homeChannel');
        const allowed = get('slack.allowedUsers');
        if (typeof ch === 'string') setChannel(ch);
        if (Array.isArray(allowed)) setUsers(allowed.filter((u) => typeof u === 'string').join(', '));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

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
    for (const [field, name] of [['bot', 'slack-bot-token'], ['app', 'slack-app-token']] as const) {
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
    <div className="step">
      <h3>Slack</h3>
      <p className="muted">Drive jobs from Slack and get each job’s end reported there. HPC Relay connects out (Socket Mode): nothing on your laptop is exposed.</p>

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
        <label htmlFor={ids.manifest} className="visually-hidden">
          Slack app manifest
        </label>
        <textarea id={ids.manifest} readOnly rows={10} value={manifest.value ?? ''} spellCheck={false} />
      </details>

      <h4>2. Paste the two tokens</h4>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void check(false);
        }}
      >
        <div className="field">
          <label htmlFor={ids.bot}>Bot token (xoxb-…, from OAuth &amp; Permissions)</label>
          <input
            id={ids.bot}
            type="password"
            autoComplete="off"
            value={tokens.bot}
            aria-invalid={tokenProblems.bot ? true : undefined}
            aria-describedby={tokenProblems.bot ? ids.botErr : undefined}
            onChange={(e) => setTokens({ ...tokens, bot: e.target.value })}
          />
          {tokenProblems.bot && <ProblemText problem={tokenProblems.bot} id={ids.botErr} />}
        </div>
        <div className="field">
          <label htmlFor={ids.app}>App-level token (xapp-…, Basic Information → App-Level Tokens, with connections:write)</label>
          <input
            id={ids.app}
            type="password"
            autoComplete="off"
            value={tokens.app}
            aria-invalid={tokenProblems.app ? true : undefined}
            aria-describedby={tokenProblems.app ? ids.appErr : undefined}
            onChange={(e) => setTokens({ ...tokens, app: e.target.value })}
          />
          {tokenProblems.app && <ProblemText problem={tokenProblems.app} id={ids.appErr} />}
        </div>
        <p className="hint">Tokens go to your OS keychain; they are never shown again or written to a file.</p>

        <h4>3. Where reports go, and who may use it</h4>
        <div className="field">
          <label htmlFor={ids.channel}>Home channel (ID such as C012ABCDEF, or #name)</label>
          <input id={ids.channel} value={channel} spellCheck={false} onChange={(e) => setChannel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.users}>Allowed Slack users</label>
          <input id={ids.users} value={users} spellCheck={false} aria-describedby={ids.usersHelp} placeholder="U012ABCDEF" onChange={(e) => setUsers(e.target.value)} />
          <p id={ids.usersHelp} className="hint">
            Member IDs, separated by commas: start with yourself (your Slack profile → ⋮ → Copy member ID). Everyone else is refused.
          </p>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy !== null}>
            {busy === 'check' ? 'Checking…' : 'Save and check'}
          </button>
          <button type="button" className="secondary" disabled={busy !== null} onClick={() => void check(true)}>
            {busy === 'test' ? 'Sending…' : 'Send a test message'}
          </button>
          <button type="button" className="secondary" onClick={next}>
            {checks?.every((c) => c.ok) ? 'Next: Model' : 'Skip this step'}
          </button>
        </div>
      </form>
      {problem && <ProblemText problem={problem} />}
      {checks && <CheckList checks={checks} label="Slack checks" />}
    </div>
  );
}
