import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, NavTarget, Status } from '../../preload/contract';
import { call, hpc } from './api';
import { StatusBar } from './components/StatusBar';
import { ActivityScreen } from './features/activity/ActivityScreen';
import { DoctorPanel } from './features/doctor/DoctorPanel';
import { JobsScreen } from './features/jobs/JobsScreen';
import { MonitorsScreen } from './features/monitors/MonitorsScreen';
import { SettingsScreen } from './features/settings/SettingsScreen';
import { SetupWizard } from './features/setup/SetupWizard';
import { DEFAULT_FALLBACK_MS, FallbackContext } from './lib/live';
import type { SetupStepId } from './features/setup/SetupWizard';

/** The screens, in menu order; Alt+1 … Alt+6 open them from anywhere. */
const SCREENS = [
  { id: 'setup', label: 'Setup' },
  { id: 'doctor', label: 'Doctor' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'monitors', label: 'Monitors' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;

type ScreenId = (typeof SCREENS)[number]['id'];

/** Where the window is: a screen, and within it a job, a monitor or a setup step. */
export type Place =
  | { screen: 'jobs'; jobId?: string }
  | { screen: 'monitors'; monitorId?: string }
  | { screen: 'setup'; step?: SetupStepId }
  | { screen: Exclude<ScreenId, 'jobs' | 'monitors' | 'setup'> };

export type Go = (place: Place) => void;

function placeOf(target: NavTarget): Place {
  switch (target.view) {
    case 'home':
    case 'jobs':
      return { screen: 'jobs' };
    case 'job':
      return { screen: 'jobs', jobId: target.jobId };
    case 'monitor':
      return { screen: 'monitors', monitorId: target.monitorId };
    default:
      return { screen: target.view };
  }
}

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [place, setPlace] = useState<Place | null>(null);
  const [status, setStatus] = useState<Status | null>(null);
  const mainRef = useRef<HTMLElement>(null);
  /** Bumped on every navigation, so the new screen's heading takes the focus. */
  const [moves, setMoves] = useState(0);

  const go = useCallback<Go>((p) => {
    setPlace(p);
    setMoves((n) => n + 1);
  }, []);

  useEffect(() => {
    let live = true;
    call(hpc().appInfo())
      .then((value) => {
        if (live) setInfo(value);
      })
      .catch((e: unknown) => console.error('app:info failed', e));
    const stopNav = hpc().onNavigate((t) => go(placeOf(t)));
    const stopStatus = hpc().onStatusChanged((s) => setStatus(s));
    call(hpc().statusGet())
      .then((s) => {
        if (live) setStatus(s);
      })
      .catch((e: unknown) => console.error('status:get failed', e));
    // Listening now: a navigation asked for before the page loaded (a notification click) wins;
    // else a first run starts in setup and later runs with the jobs.
    (async () => {
      const waiting = await call(hpc().navigationTake());
      if (waiting) return placeOf(waiting);
      const settings = await call(hpc().settingsGet());
      const configured = settings.entries.some((e) => e.key === 'cluster.host' && e.isSet);
      return configured ? ({ screen: 'jobs' } as const) : ({ screen: 'setup' } as const);
    })()
      .then((p) => {
        if (live) go(p);
      })
      .catch((e: unknown) => {
        console.error('navigation:take failed', e);
        if (live) go({ screen: 'doctor' });
      });
    return () => {
      live = false;
      stopNav();
      stopStatus();
    };
  }, [go]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      // The key's place, not its character: Option+1 types "¡" on a Mac keyboard.
      const digit = /^Digit([1-9])$/.exec(e.code)?.[1];
      if (!digit) return;
      const i = Number(digit) - 1;
      const screen = SCREENS[i];
      if (!screen) return;
      e.preventDefault();
      go({ screen: screen.id });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  useEffect(() => {
    if (moves === 0) return;
    // After the screen rendered: its heading takes the focus, so Tab continues inside it and a
    // screen reader announces where the user is.
    const frame = requestAnimationFrame(() => mainRef.current?.querySelector<HTMLElement>('h2')?.focus());
    return () => cancelAnimationFrame(frame);
  }, [moves]);

  const current = place?.screen ?? null;

  return (
    <div className="app">
      <header className="app-header">
        <h1>HPC Relay</h1>
        <StatusBar status={status} />
        {info && (
          <p className="muted version" aria-label="Version">
            v{info.version} · {info.platform}
          </p>
        )}
      </header>
      <nav className="app-nav" aria-label="Screens">
        <ul>
          {SCREENS.map((s, i) => (
            <li key={s.id}>
              <button
                type="button"
                className="nav-item"
                aria-current={current === s.id ? 'page' : undefined}
                aria-keyshortcuts={`Alt+${i + 1}`}
                onClick={() => go({ screen: s.id })}
              >
                {s.label}
                <span className="nav-key" aria-hidden="true">
                  Alt+{i + 1}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main className="app-main" ref={mainRef}>
        <FallbackContext value={info?.refreshFallbackMs ?? DEFAULT_FALLBACK_MS}>{place && <Screen place={place} go={go} />}</FallbackContext>
      </main>
    </div>
  );
}

function Screen({ place, go }: { place: Place; go: Go }) {
  switch (place.screen) {
    case 'setup':
      return <SetupWizard initialStep={place.step ?? 'cluster'} go={go} />;
    case 'doctor':
      return <DoctorPanel go={go} />;
    case 'jobs':
      return <JobsScreen jobId={place.jobId ?? null} go={go} />;
    case 'monitors':
      return <MonitorsScreen highlight={place.monitorId ?? null} />;
    case 'activity':
      return <ActivityScreen go={go} />;
    case 'settings':
      return <SettingsScreen />;
  }
}
