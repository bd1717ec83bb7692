import { useEffect, useState } from 'react';
import type { AppInfo } from '../../preload/contract';
import { call, hpc } from './api';
import { DoctorPanel } from './features/doctor/DoctorPanel';

export function App() {
  const [info, setInfo] = useState<AppInfo | null>(null);

  useEffect(() => {
    let live = true;
    call(hpc().appInfo())
      .then((value) => {
        if (live) setInfo(value);
      })
      .catch((e: unknown) => console.error('app:info failed', e));
    return () => {
      live = false;
    };
  }, []);

  return (
    <div className="app">
      <header className="app-header">
        <h1>HPC Relay</h1>
        {info && (
          <p className="muted" aria-label="Version">
            v{info.version} · {info.platform}
          </p>
        )}
      </header>
      <main>
        <DoctorPanel />
      </main>
    </div>
  );
}
