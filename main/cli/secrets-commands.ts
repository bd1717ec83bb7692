import type { Command } from 'commander';
import type { Core } from '../core/index.js';
import { secretSpec } from '../core/secrets/secret-names.js';
import { printJson } from './output.js';
import { TerminalPrompt, readStdin } from './terminal-prompt.js';

type OpenCore = () => Promise<Core>;

export function registerSecretsCommands(program: Command, open: OpenCore): void {
  const secrets = program.command('secrets').description('Store secrets in the OS keychain; values never appear in argv, settings or logs.');

  secrets
    .command('set')
    .argument('<name>', 'slack-bot-token, slack-app-token, anthropic-api-key or ssh-passphrase:HOST')
    .description('Save a secret, read from standard input (never from the command line).')
    .action(async (name: string) => {
      const spec = secretSpec(name);
      const core = await open();
      const value = process.stdin.isTTY
        ? await new TerminalPrompt().ask({ kind: 'secret', title: spec.label, message: `Paste the ${spec.label}` })
        : await readStdin();
      await core.secrets.set(name, value ?? '');
      process.stdout.write(`Saved the ${spec.label} in the keychain.\n`);
      if (spec.env && process.env[spec.env]) process.stderr.write(`hpc-relay: note: $${spec.env} is set and takes precedence over the keychain.\n`);
    });

  secrets
    .command('delete')
    .argument('<name>', 'a secret name')
    .description('Remove a secret from the keychain.')
    .action(async (name: string) => {
      const spec = secretSpec(name);
      const core = await open();
      const gone = await core.secrets.delete(name);
      process.stdout.write(gone ? `Removed the ${spec.label}.\n` : `The ${spec.label} was not in the keychain.\n`);
    });

  secrets
    .command('status')
    .option('--json', 'print JSON')
    .description('Say where each secret comes from (environment, keychain, or not set); never the values.')
    .action(async (opts: { json?: boolean }) => {
      const core = await open();
      const status = await core.secrets.status();
      if (opts.json) return printJson(status);
      for (const s of status) process.stdout.write(`${s.name.padEnd(20)} ${s.source}${s.detail ? ` (${s.detail})` : ''}\n`);
    });
}
