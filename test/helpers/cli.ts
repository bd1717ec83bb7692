import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(REPO_ROOT, 'bin', 'hpc-relay.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the real `hpc-relay` command (built by `npm run build:cli`) as a separate process. */
export function runCli(args: string[], opts: { home: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'out', 'cli', 'cli.js'))) {
    throw new Error('The CLI is not built: run `npm run build:cli` first (npm test does).');
  }
  const env: NodeJS.ProcessEnv = { ...process.env, HPC_RELAY_HOME: opts.home, ...opts.env };
  for (const k of ['HPC_RELAY_SLACK_BOT_TOKEN', 'HPC_RELAY_SLACK_APP_TOKEN', 'HPC_RELAY_ANTHROPIC_API_KEY']) {
    if (!opts.env || !(k in opts.env)) Reflect.deleteProperty(env, k);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hpc-relay ${args.join(' ')} did not finish`)); }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(opts.input ?? '');
  });
}
