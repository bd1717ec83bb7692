import { Command, CommanderError } from 'commander';
import type { ServiceFactory } from './core/runtime/runtime.js';
import { RELAY_SERVICES } from './core/runtime/services.js';
import type { Core } from './core/index.js';
import { registerAgentCommands } from './cli/agent-commands.js';
import { registerConfigCommands } from './cli/config-commands.js';
import { registerJobsCommands } from './cli/jobs-commands.js';
import { registerCronCommands } from './cli/cron-commands.js';
import { openCore } from './cli/context.js';
import { registerOpsCommands } from './cli/ops-commands.js';
import { reportError } from './cli/output.js';
import { registerSecretsCommands } from './cli/secrets-commands.js';
import { registerSlackCommands } from './cli/slack-commands.js';

/** The services `hpc-relay daemon` runs, in start order: the same list as the tray app (add new ones in services.ts). */
const DAEMON_SERVICES: ServiceFactory[] = [...RELAY_SERVICES];

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const program = new Command('hpc-relay')
    .description('Drive SLURM training jobs from Slack and a laptop tray; this is its headless command line.')
    .option('--verbose', 'debug logs, and stack traces with errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const open = (opts: { logToStderr?: boolean } = {}): Promise<Core> => openCore({ ...opts, verbose });
  registerConfigCommands(program, open);
  registerSecretsCommands(program, open);
  registerOpsCommands(program, open, DAEMON_SERVICES);
  registerJobsCommands(program, open);
  registerSlackCommands(program, open);
  registerAgentCommands(program, open);
  registerCronCommands(program, open);
  program.commands.forEach((c) => c.exitOverride());
  for (const c of program.commands) c.commands.forEach((s) => s.exitOverride());

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are "errors" with exit code 0; everything else commander rejects is usage.
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportError(e, verbose);
  }
}
