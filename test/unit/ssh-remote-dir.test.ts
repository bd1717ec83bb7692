// The remote-dir script (ClusterService.remoteDir), run by a real local `sh` exactly as the login
// shell receives it (one command line, quoted by shell-quote.ts): the /scratch branch, which the
// testbed cannot show without a /scratch of its own, and the configured forms.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { remoteDirScript } from '../../main/core/cluster/cluster-service.js';
import { commandLine } from '../../main/core/cluster/shell-quote.js';
import { makeHome } from '../helpers/temp-home.js';

function run(script: string, env: Record<string, string | undefined>): { code: number | null; lines: string[] } {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const r = spawnSync('sh', ['-c', commandLine(['sh', '-c', script])], { env: clean, encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.trim().split('\n') };
}

describe('the remote working directory script', () => {
  it('uses /scratch/$USER/hpc-relay where the scratch root exists, creating it', () => {
    const root = makeHome('remote-dir');
    const scratch = path.join(root, 'scratch');
    fs.mkdirSync(scratch);
    const r = run(remoteDirScript(undefined, scratch), { HOME: path.join(root, 'home'), USER: 'alice' });
    expect(r).toEqual({ code: 0, lines: [path.join(scratch, 'alice', 'hpc-relay')] });
    expect(fs.statSync(path.join(scratch, 'alice', 'hpc-relay')).isDirectory()).toBe(true);
    expect(fs.readdirSync(path.join(scratch, 'alice', 'hpc-relay'))).toEqual([]); // the write probe is gone
  });

  it('falls back to $HOME/hpc-relay without a scratch root, and asks id for the user when $USER is unset', () => {
    const root = makeHome('remote-dir');
    const home = path.join(root, 'home');
    fs.mkdirSync(home);
    expect(run(remoteDirScript(undefined, path.join(root, 'no-scratch')), { HOME: home, USER: 'alice' })).toEqual({ code: 0, lines: [path.join(home, 'hpc-relay')] });

    const scratch = path.join(root, 'scratch');
    fs.mkdirSync(scratch);
    const me = spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
    expect(run(remoteDirScript(undefined, scratch), { HOME: home })).toEqual({ code: 0, lines: [path.join(scratch, me, 'hpc-relay')] });
  });

  it('expands only a leading ~ or $HOME of a configured path; the rest is taken verbatim', () => {
    const home = makeHome('remote-dir');
    const r = run(remoteDirScript("~/runs/$(echo no) 'x'"), { HOME: home });
    expect(r).toEqual({ code: 0, lines: [path.join(home, "runs/$(echo no) 'x'")] });
    const abs = path.join(home, 'abs dir');
    expect(run(remoteDirScript(abs), { HOME: '/nonexistent' })).toEqual({ code: 0, lines: [abs] });
  });

  it('exits 3 with the directory and the reason when it cannot be created', () => {
    const home = makeHome('remote-dir');
    fs.writeFileSync(path.join(home, 'a-file'), '');
    const r = run(remoteDirScript('$HOME/a-file/sub'), { HOME: home });
    expect(r.code).toBe(3);
    expect(r.lines[0]).toBe(path.join(home, 'a-file/sub'));
    expect(r.lines[1]).toMatch(/mkdir: .*Not a directory/);
  });
});
