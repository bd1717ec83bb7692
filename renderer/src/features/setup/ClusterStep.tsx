import { useState } from 'react';
import type { ClusterCandidate, ConnectionStage, StageResult } from '../../../../preload/contract';
import { call, hpc } from '../../api';
import { problemOf, unlessTyped, usePolled, useSettingsOnce } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import { Field, Form, SubmitButton } from '../../components/Field';
import { ProblemText } from '../../components/ProblemText';
import type { StepProps } from './SetupWizard';
import { Step, StepActions } from './Step';

/** The connection test's stages, in the order they run, with what each is called. */
const STAGES = (
  [
    ['dns', 'Name lookup (DNS)'],
    ['tcp', 'Network (TCP)'],
    ['hostkey', 'Host key'],
    ['auth', 'Login'],
    ['slurm', 'SLURM partitions'],
    ['remoteDir', 'Remote directory'],
    ['tools', 'Tools on the login node'],
  ] as const satisfies readonly (readonly [ConnectionStage, string])[]
).map(([id, label]) => ({ id, label }));

type StageState = { kind: 'waiting' } | { kind: 'running' } | { kind: 'done'; result: StageResult };

const OTHER = '__other__';

/**
 * Step 1: which login node, then a live test that shows each stage as it happens. An unknown host
 * key stops the test with its fingerprint until the user trusts it (or not).
 */
export function ClusterStep({ next, changed }: StepProps) {
  const hosts = usePolled(() => call(hpc().clusterHosts()), null);
  const [choice, setChoice] = useState<string | null>(null);
  const [configuredHost, setConfiguredHost] = useState<string | null>(null);
  const [typedHost, setTypedHost] = useState<string | null>(null);
  const [typed, setTyped] = useState({ user: '', port: '' });
  const [remoteDir, setRemoteDir] = useState('');
  const [stages, setStages] = useState<Record<ConnectionStage, StageState> | null>(null);
  const [testing, setTesting] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [trusting, setTrusting] = useState(false);

  // What is configured now, to start from.
  useSettingsOnce((get) => {
    const host = get('cluster.host')?.value;
    const dir = get('cluster.remoteDir');
    if (typeof host === 'string') setConfiguredHost(host);
    if (dir?.isSet && typeof dir.value === 'string') setRemoteDir(unlessTyped(dir.value));
  });

  const aliases = hosts.value?.map((h) => h.alias) ?? [];
  const noAliases = hosts.value !== null && aliases.length === 0;
  const selected = noAliases ? OTHER : (choice ?? (configuredHost ? (aliases.includes(configuredHost) ? configuredHost : OTHER) : null));
  const isOther = selected === OTHER;
  const hostField = typedHost ?? (configuredHost && !aliases.includes(configuredHost) ? configuredHost : '');
  const hostToUse = isOther ? hostField.trim() : (selected ?? '');

  /** What the first stages test before anything is saved (see cluster:test). */
  function candidate(): ClusterCandidate | null {
    if (!hostToUse) {
      setProblem({ message: 'Pick a host from your SSH config or type a host name first.', fix: null });
      return null;
    }
    const port = isOther && typed.port.trim() ? Number(typed.port.trim()) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      setProblem({ message: `"${typed.port.trim()}" is not a port number.`, fix: 'Use a number from 1 to 65535, or leave it empty for the SSH config’s (else 22).' });
      return null;
    }
    return { host: hostToUse, ...(isOther && typed.user.trim() ? { user: typed.user.trim() } : {}), ...(port !== undefined ? { port } : {}) };
  }

  /** Saves the host (only once its key is trusted): from here on the app connects to it. */
  async function save(c: ClusterCandidate): Promise<boolean> {
    try {
      await call(hpc().settingsSet('cluster.host', c.host));
      // The form is the whole truth: what is not typed comes from the SSH config again.
      if (c.user) await call(hpc().settingsSet('cluster.user', c.user));
      else await call(hpc().settingsUnset('cluster.user'));
      if (c.port) await call(hpc().settingsSet('cluster.port', c.port));
      else await call(hpc().settingsUnset('cluster.port'));
      if (remoteDir.trim()) await call(hpc().settingsSet('cluster.remoteDir', remoteDir.trim()));
      else await call(hpc().settingsUnset('cluster.remoteDir'));
      changed();
      return true;
    } catch (e) {
      setProblem(problemOf(e));
      return false;
    }
  }

  /**
   * Runs the stages from `first`: DNS, TCP and the host key against the unsaved candidate; then,
   * with the key trusted, the host is saved and login and the rest run through the core's session.
   */
  async function runFrom(first: ConnectionStage, c: ClusterCandidate, base?: Record<ConnectionStage, StageState>): Promise<void> {
    setTesting(true);
    const start = STAGES.findIndex((s) => s.id === first);
    let state: Record<ConnectionStage, StageState> =
      base ?? (Object.fromEntries(STAGES.map((s) => [s.id, { kind: 'waiting' }])) as Record<ConnectionStage, StageState>);
    const put = (id: ConnectionStage, s: StageState) => {
      state = { ...state, [id]: s };
      setStages(state);
    };
    try {
      for (const { id } of STAGES.slice(start)) {
        const beforeSave = id === 'dns' || id === 'tcp' || id === 'hostkey';
        if (id === 'auth' && !(await save(c))) break;
        put(id, { kind: 'running' });
        const result = await call(hpc().clusterTest(id, beforeSave ? c : null));
        put(id, { kind: 'done', result });
        if (result.status === 'failed' || result.status === 'confirm') break;
      }
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setTesting(false);
    }
  }

  async function saveAndTest(): Promise<void> {
    setProblem(null);
    const c = candidate();
    if (c) await runFrom('dns', c);
  }

  async function trust(fingerprint: string): Promise<void> {
    const c = candidate();
    if (!stages || !c) return;
    setTrusting(true);
    try {
      const result = await call(hpc().clusterTrustHostKey(fingerprint, c));
      const base = { ...stages, hostkey: { kind: 'done', result } as StageState };
      setStages(base);
      if (result.status === 'ok') await runFrom('auth', c, base);
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setTrusting(false);
    }
  }

  function distrust(): void {
    setProblem({ message: 'The host key was not trusted, so HPC Relay will not log in.', fix: 'Check the fingerprint with your cluster admins, then run the test again.' });
  }

  const allOk = stages !== null && STAGES.every((s) => stages[s.id].kind === 'done' && (stages[s.id] as { result: StageResult }).result.status === 'ok');

  return (
    <Step title="Cluster" intro="The login node HPC Relay keeps one SSH connection to. Your keys and ssh-agent are used as ssh would; a second factor is asked in a small prompt window.">
      <div className="step-columns">
        <div>
          <Form onSubmit={() => void saveAndTest()}>
            {hosts.value && hosts.value.length > 0 ? (
              <fieldset>
                <legend>Host from your SSH config</legend>
                <div className="choices">
                  {hosts.value.map((h) => (
                    <label key={h.alias} className="choice">
                      <input type="radio" name="cluster-host" value={h.alias} checked={selected === h.alias} onChange={() => setChoice(h.alias)} />
                      <span className="choice-title">{h.alias}</span>
                      <span className="muted">
                        {[h.user && `${h.user}@`, h.hostName ?? h.alias, h.port && `:${h.port}`].filter(Boolean).join('')}
                        {h.proxyJump ? ` via ${h.proxyJump}` : ''}
                      </span>
                    </label>
                  ))}
                  <label className="choice">
                    <input type="radio" name="cluster-host" value={OTHER} checked={selected === OTHER} onChange={() => setChoice(OTHER)} />
                    <span className="choice-title">Another host</span>
                  </label>
                </div>
              </fieldset>
            ) : (
              <p className="muted">{hosts.loading ? 'Reading your SSH config…' : 'No hosts in your SSH config: type the login node’s name.'}</p>
            )}
            {isOther && (
              <div className="field-row">
                <Field label="Host name">
                  {(control) => <input {...control} value={hostField} placeholder="login.cluster.example.edu" autoComplete="off" spellCheck={false} onChange={(e) => setTypedHost(e.target.value)} />}
                </Field>
                <Field label="User (optional)">
                  {(control) => <input {...control} value={typed.user} autoComplete="off" spellCheck={false} onChange={(e) => setTyped({ ...typed, user: e.target.value })} />}
                </Field>
                <Field label="Port" className="field narrow">
                  {(control) => <input {...control} value={typed.port} inputMode="numeric" placeholder="22" onChange={(e) => setTyped({ ...typed, port: e.target.value })} />}
                </Field>
              </div>
            )}
            <Field label="Remote working directory (optional)" help="Job scripts, logs and the events file go here. It must be writable from the login node and visible from compute nodes.">
              {(control) => <input {...control} value={remoteDir} placeholder="/scratch/$USER/hpc-relay, else $HOME/hpc-relay" spellCheck={false} onChange={(e) => setRemoteDir(e.target.value)} />}
            </Field>
            <StepActions next={next} done={allOk} doneLabel="Next: Slack">
              <SubmitButton busy={testing} busyLabel="Testing…">
                Test and save
              </SubmitButton>
            </StepActions>
          </Form>

          {problem && <ProblemText problem={problem} />}
        </div>

        <div>
          {stages && (
            <ol className="stages" aria-label="Connection test">
              {STAGES.map((s) => (
                <StageRow key={s.id} label={s.label} stage={s.id} state={stages[s.id]} trusting={trusting} onTrust={(fp) => void trust(fp)} onDistrust={distrust} />
              ))}
            </ol>
          )}
          {allOk && (
            <p className="success" role="status">
              The cluster is ready.
            </p>
          )}
        </div>
      </div>
    </Step>
  );
}

const MARKS = { ok: '✓', failed: '✗', confirm: '?', skipped: '–' } as const;

function StageRow(props: {
  label: string;
  stage: ConnectionStage;
  state: StageState;
  trusting: boolean;
  onTrust: (fingerprint: string) => void;
  onDistrust: () => void;
}) {
  const { label, stage, state } = props;
  const status = state.kind === 'done' ? state.result.status : state.kind;
  const mark = state.kind === 'done' ? MARKS[state.result.status] : state.kind === 'running' ? '…' : '';
  const word = { waiting: 'not run yet', running: 'running', ok: 'passed', failed: 'failed', confirm: 'needs your decision', skipped: 'skipped' }[status];
  const r = state.kind === 'done' ? state.result : null;
  return (
    <li className={`stage stage-${status}`} data-stage={stage}>
      <span className="check-mark" role="img" aria-label={word}>
        {mark}
      </span>
      <div className="check-text">
        <p className="check-title">{label}</p>
        {state.kind === 'running' && stage === 'auth' && <p className="muted">Logging in… if your cluster asks for a second factor, answer it in the prompt window.</p>}
        {r && <p className="check-message">{r.message}</p>}
        {r?.hostKey && r.status !== 'ok' && (
          <p className="fingerprint">
            <span className="muted">{r.hostKey.keyType} fingerprint </span>
            <code>{r.hostKey.fingerprint}</code>
          </p>
        )}
        {r && r.status !== 'ok' && r.fix && (
          <p className="fix">
            <span className="fix-label">Fix: </span>
            {r.fix}
          </p>
        )}
        {r?.status === 'confirm' && r.hostKey && (
          <div className="actions">
            <button type="button" disabled={props.trusting} onClick={() => r.hostKey && props.onTrust(r.hostKey.fingerprint)}>
              Trust this host key
            </button>
            <button type="button" className="secondary" onClick={props.onDistrust}>
              Don’t trust it
            </button>
          </div>
        )}
        {r?.partitions && r.partitions.length > 0 && (
          <ul className="tags" aria-label="Partitions">
            {r.partitions.map((p) => (
              <li key={p.name} className="tag">
                {p.name}
                {p.isDefault ? ' (default)' : ''} · {p.timeLimit} · {p.nodes} node{p.nodes === 1 ? '' : 's'}
                {p.available ? '' : ' · down'}
              </li>
            ))}
          </ul>
        )}
        {r?.tools && (
          <ul className="tags" aria-label="Tools">
            {r.tools.map((t) => (
              <li key={t.name} className={t.path ? 'tag ok' : 'tag missing'} title={t.path ?? 'not found'}>
                {t.path ? '✓' : '✗'} {t.name}
              </li>
            ))}
          </ul>
        )}
      </div>
    </li>
  );
}
