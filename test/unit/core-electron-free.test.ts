import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

describe('main/core is Electron-free', () => {
  it('no file under main/core (nor the CLI) imports electron, electron-store, or the shell', () => {
    const offenders: string[] = [];
    const sources = [...files(path.join(REPO_ROOT, 'main', 'core')), ...files(path.join(REPO_ROOT, 'main', 'cli')), path.join(REPO_ROOT, 'main', 'cli.ts')];
    expect(sources.length).toBeGreaterThan(10);
    for (const f of sources) {
      const text = fs.readFileSync(f, 'utf8');
      if (/(?:from\s+|require\(|import\()\s*['"](?:electron|electron-store)['"]/.test(text) || /from\s+['"][./]*\/(?:app|ipc|adapters)\//.test(text)) offenders.push(path.relative(REPO_ROOT, f));
    }
    expect(offenders).toEqual([]);
  });

  it('loads in plain Node (where electron cannot be required) and builds a core', async () => {
    expect(() => createRequire(import.meta.url)('electron')).toThrow();
    const mod = await import('../../main/core/index.js');
    expect(typeof mod.createCore).toBe('function');
  });
});
