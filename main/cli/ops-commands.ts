import { once } from 'node:events';
import type { Command } from 'commander';
import type { Core } from '../core/index.js';
import { Runtime, type ServiceFactory } from '../core/runtime/runtime.js';
import { printDoctorReport } from './doctor-output.js';
import { UsageError } from './output.js';

type OpenCore = (opts?: { logToStderr?: boolean }) => Promise<Core>;

export function registerOpsCommands(program: Command, open: OpenCore, services: ServiceFactory[]): void {
  program
    .command('doctor')
    .option('--json', 'print {"ok", "checks": [{"id", "ok", "warning", "message", "fix"}]}')
    .description('Check every part of the setup; exit 1 when any check fails.')
    .action(async (opts: { json?: boolean }) => {
      const core = await open();
      try {
        const report = await core.doctor();
        printDoctorReport(report, opts.json);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        await core.close();
      }
    });

  program
    .command('exec')
    .argument('<argv...>', 'the program and its arguments, after --')
    .option('--timeout <seconds>', 'stop the command after this many seconds', '120')
    .description('Run one command on the login node over the shared SSH session (arguments are passed verbatim, never through a shell).')
    .action(async (argv: string[], opts: { timeout: string }) => {
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a positive number of seconds (got "${opts.timeout}").`);
      const core = await open();
      try {
        const r = await core.cluster().exec(argv, { timeoutMs: timeout * 1000 });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code ?? 1;
      } finally {
        await core.close();
      }
    });

  program
    .command('daemon')
    .description('Run the core headless (SSH session, Slack gateway, watchers) until SIGINT or SIGTERM.')
    .action(async () => {
      const core = await open({ logToStderr: true });
      const runtime = new Runtime(core, services);
      const stopping = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        core.logger.info('signal received, stopping', { signal: sig });
        stopping.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const names = await runtime.start();
      core.logger.info('daemon started', { services: names, home: core.home });
      // Nothing else may hold the event loop (no cluster, no Slack): keep the process alive until a signal.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      await once(stopping.signal, 'abort');
      clearInterval(keepAlive);
      await runtime.stop();
      await core.close();
      core.logger.info('daemon stopped');
      process.exitCode = 0;
    });
}
