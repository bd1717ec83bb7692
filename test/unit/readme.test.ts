import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, SETTING_KEYS } from '../../main/core/config/keys.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('README stays true', () => {
  it('documents every settings key with its default', () => {
    for (const k of SETTING_KEYS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${k}\` |`));
      expect(row, `README has no row for ${k}`).toBeDefined();
      const d = SETTINGS[k].default;
      if (typeof d === 'number' || typeof d === 'boolean') expect(row).toContain(String(d));
    }
  });

  it('documents every top-level CLI command', async () => {
    const help = await runCli(['--help'], { home: makeHome('readme') });
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(4);
    for (const c of commands) expect(readme, `README does not mention hpc-relay ${c}`).toContain(`hpc-relay ${c}`);
  });

  it('names the two commands and the test command CI runs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
    expect(fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
