import type { LinkStateName, Status } from '../../../preload/contract';

const WORDS: Record<LinkStateName, string> = {
  off: 'off',
  connecting: 'connecting…',
  connected: 'connected',
  disconnected: 'disconnected',
  attention: 'needs you',
};

/** The three links at a glance; details (untrusted: may quote a server) as text in the tooltip. */
export function StatusBar({ status }: { status: Status | null }) {
  if (!status) return null;
  const links = [
    { name: 'Cluster', link: status.ssh },
    { name: 'Slack', link: status.slack },
    { name: 'Model', link: status.model },
  ];
  const running = status.jobs.running.length;
  return (
    <ul className="status-bar" aria-label="Connections">
      {links.map(({ name, link }) => (
        <li key={name} className={`link link-${link.state}`} title={link.detail ?? undefined}>
          <span className="dot" aria-hidden="true" />
          {name} {WORDS[link.state]}
        </li>
      ))}
      <li className="link">{running === 1 ? '1 job active' : `${running} jobs active`}</li>
    </ul>
  );
}
