/** The effective settings, as the rest of the core reads them. Keys mirror SETTINGS in keys.ts. */
export interface Settings {
  cluster: {
    host?: string;
    port?: number;
    user?: string;
    identityFile?: string;
    proxyJump?: string;
    sshConfigFile: string;
    knownHostsFile: string;
    remoteDir?: string;
    pollSeconds: number;
  };
  slack: {
    enabled: boolean;
    apiUrl: string;
    allowedUsers: string[];
    homeChannel?: string;
  };
  llm: {
    enabled: boolean;
    model: string;
    baseUrl?: string;
    maxTurns: number;
    monthlyBudgetUsd: number;
  };
  notify: { tray: boolean; slack: boolean };
  triage: { mode: 'notify' | 'remediate' };
  app: { openAtLogin: boolean };
}
