/**
 * The relay as a child process for test/integration/fault-sigkill.test.ts, which SIGKILLs it at
 * random moments and starts it again. It builds the core the way the CLI does (settings file,
 * logger, store in HOME) from the CLI build (out/cli, made by `npm run build:cli`) and runs what
 * `hpc-relay daemon` runs (RELAY_SERVICES: the SSH link, the Slack gateway when slack.enabled is
 * set, the job service's events stream, poll tick and notify dispatcher, the agent, cron) with a
 * tray notifier that appends every delivery it is handed to DELIVERIES as one JSON line. Slack
 * tokens come from the HPC_RELAY_SLACK_* environment, as for the daemon.
 *
 * The test transpiles this file to JavaScript (TypeScript's transpileModule) and runs
 *   node fault-relay-child.mjs HOME DELIVERIES REPO_ROOT
 * Only types come from main/core here; the code is the compiled CLI build, as a user runs it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as CoreIndex from '../../main/core/index.js';
import type * as ConfigStoreModule from '../../main/core/config/file-config-store.js';
import type * as LoggerModule from '../../main/core/log/logger.js';
import type * as RedactModule from '../../main/core/secrets/redact.js';
import type * as RuntimeModule from '../../main/core/runtime/runtime.js';
import type * as ServicesModule from '../../main/core/runtime/services.js';
import type { Notification } from '../../main/core/ports.js';

/** One line of the deliveries file. */
export interface DeliveryLine {
  pid: number;
  id: string;
  title: string;
  at: number;
}

async function main(): Promise<void> {
  const [home, deliveries, repoRoot] = process.argv.slice(2);
  if (!home || !deliveries || !repoRoot) throw new Error('usage: fault-relay-child HOME DELIVERIES REPO_ROOT');
  const core = path.join(repoRoot, 'out', 'cli', 'core');
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(core, rel)).href)) as T;
  const [{ createCore }, { FileConfigStore }, { createLogger }, { SecretRegistry }, { Runtime }, { RELAY_SERVICES }] = await Promise.all([
    load<typeof CoreIndex>('index.js'),
    load<typeof ConfigStoreModule>('config/file-config-store.js'),
    load<typeof LoggerModule>('log/logger.js'),
    load<typeof RedactModule>('secrets/redact.js'),
    load<typeof RuntimeModule>('runtime/runtime.js'),
    load<typeof ServicesModule>('runtime/services.js'),
  ]);
  const registry = new SecretRegistry();
  const relay = createCore({
    home,
    configStore: new FileConfigStore(home),
    keychain: null,
    keychainError: 'not used by this test process',
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('HPC_RELAY_SLACK_'))),
    registry,
    logger: createLogger({ file: path.join(home, 'logs', 'hpc-relay.log'), registry, level: 'debug' }),
    prompt: { ask: async () => null },
    notifier: {
      async notify(n: Notification) {
        const line: DeliveryLine = { pid: process.pid, id: n.id, title: n.title, at: Date.now() };
        fs.appendFileSync(deliveries, `${JSON.stringify(line)}\n`);
      },
    },
  });
  const runtime = new Runtime(relay, [...RELAY_SERVICES]);
  const names = await runtime.start();
  if (!names.includes('jobs')) throw new Error(`the job service declined to start (no cluster.host?); running: ${names.join(', ')}`);
  process.stdout.write(`started ${names.join(',')}\n`);
  process.once('SIGTERM', () => {
    void runtime.stop().then(() => relay.close()).then(() => process.exit(0));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`fault-relay-child: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
