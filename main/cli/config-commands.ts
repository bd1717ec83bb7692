import type { Command } from 'commander';
import { SETTINGS, SETTING_KEYS, isSettingKey } from '../core/config/keys.js';
import { parseCliValue } from '../core/config/settings.js';
import type { Core } from '../core/index.js';
import { formatValue, printJson } from './output.js';

type OpenCore = () => Promise<Core>;

export function registerConfigCommands(program: Command, open: OpenCore): void {
  const config = program.command('config').description('Read and change settings (the same file the app uses).');

  config
    .command('get')
    .argument('[key]', 'a dotted key such as cluster.host; all keys when omitted')
    .option('--json', 'print JSON')
    .description('Print one setting, or every setting with its source.')
    .action(async (key: string | undefined, opts: { json?: boolean }) => {
      const core = await open();
      if (key) {
        const v = core.settings.get(key);
        if (opts.json) printJson(v ?? null);
        else if (v !== undefined) process.stdout.write(`${formatValue(v)}\n`);
        return;
      }
      const all = core.settings.getAll();
      for (const p of core.settings.lastProblems()) process.stderr.write(`hpc-relay: warning: ${p.message}\n`);
      if (opts.json) return printJson(all);
      const width = Math.max(...SETTING_KEYS.map((k) => k.length));
      for (const k of SETTING_KEYS) {
        const shown = all[k] === undefined ? '(not set)' : formatValue(all[k]);
        const src = core.settings.isSet(k) ? '' : '  # default';
        process.stdout.write(`${k.padEnd(width)}  ${shown}${src}\n`);
      }
    });

  config
    .command('set')
    .argument('<key>', 'a dotted key such as cluster.pollSeconds')
    .argument('<value>', 'parsed as JSON when it parses (60, true, ["U012"]), else taken as text')
    .description('Change a setting; the value is checked before it is saved.')
    .action(async (key: string, value: string) => {
      const core = await open();
      core.settings.set(key, parseCliValue(value));
      process.stdout.write(`${key} = ${formatValue(core.settings.get(key))}\n`);
    });

  config
    .command('unset')
    .argument('<key>', 'a dotted key')
    .description('Remove a setting so its default applies again.')
    .action(async (key: string) => {
      const core = await open();
      core.settings.unset(key);
      const v = core.settings.get(key);
      process.stdout.write(v === undefined ? `${key} is not set\n` : `${key} = ${formatValue(v)} (default)\n`);
    });

  config
    .command('keys')
    .description('List every setting with its meaning and default.')
    .action(() => {
      for (const k of SETTING_KEYS) {
        if (!isSettingKey(k)) continue;
        const s = SETTINGS[k];
        const def = s.default === undefined ? '' : ` (default ${formatValue(s.default)})`;
        process.stdout.write(`${k}${def}\n    ${s.description}\n`);
      }
    });
}
