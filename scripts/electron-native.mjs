#!/usr/bin/env node
/**
 * Builds better-sqlite3 for Electron's ABI into build/electron-native/, for `npm start`/`npm run dev`.
 *
 * better-sqlite3 is not N-API: the build in node_modules (made for Node, used by tests and the
 * CLI) fails in Electron with a NODE_MODULE_VERSION mismatch, and an Electron build fails in
 * Node. So node_modules keeps the Node build, and this script compiles a second copy for
 * Electron, which main/index.ts hands to better-sqlite3 as `nativeBinding` when the app is not
 * packaged (packaged apps get electron-builder's own rebuild). A stamp file records what the
 * copy was built for; while it matches the installed electron and better-sqlite3 this script
 * does nothing.
 *
 * Usage: node scripts/electron-native.mjs [--force]
 */
import { spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const electronHeadersUrl = 'https://electronjs.org/headers';

/**
 * Where the Electron build of better-sqlite3 and its stamp live (main/app/resource-paths.ts
 * points better-sqlite3 at the same binding path).
 * @param {string} rootDir
 */
export function electronNativePaths(rootDir) {
  const dir = join(rootDir, 'build', 'electron-native');
  return { dir, bindingPath: join(dir, 'better_sqlite3.node'), stampPath: join(dir, 'stamp.json'), logPath: join(dir, 'node-gyp.log') };
}

/**
 * Whether the Electron build must be (re)built, and why. Pure: the caller reads the installed
 * versions, the stamp (parsed JSON, or null) and whether the binding exists.
 *
 * @param {{ electronVersion: string, betterSqlite3Version: string, platform: string, arch: string,
 *   stamp: unknown, bindingExists: boolean }} input
 * @returns {{ wanted: Record<string, string>, stale: boolean, reason: string | null }}
 */
export function electronNativeStatus({ electronVersion, betterSqlite3Version, platform, arch, stamp, bindingExists }) {
  const wanted = { electron: electronVersion, betterSqlite3: betterSqlite3Version, platform, arch };
  if (!bindingExists) return { wanted, stale: true, reason: 'there is no Electron build of better-sqlite3 yet' };
  if (stamp === null || typeof stamp !== 'object') return { wanted, stale: true, reason: 'the Electron build has no readable stamp' };
  const recorded = /** @type {Record<string, unknown>} */ (stamp);
  for (const [key, value] of Object.entries(wanted)) {
    if (recorded[key] !== value) {
      return { wanted, stale: true, reason: `it was built for ${key} ${String(recorded[key])}, now ${value}` };
    }
  }
  return { wanted, stale: false, reason: null };
}

/**
 * The one sentence to print when node-gyp fails, from what it wrote.
 * @param {{ electronVersion: string, log: string, logPath: string }} input
 */
export function describeBuildFailure({ electronVersion, log, logPath }) {
  // node-gyp's own words for a failed header download, then the usual network errno names.
  const offline = /install got an error|network connectivity|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|getaddrinfo|fetch failed|self[- ]signed|certificate/i;
  const cause = offline.test(log)
    ? `the Electron headers could not be downloaded from ${electronHeadersUrl} (no network?); connect once so node-gyp can cache them, then run \`npm start\` again`
    : 'node-gyp could not compile it; check that a C++ toolchain and Python 3 are installed';
  return `Could not build better-sqlite3 for Electron ${electronVersion}: ${cause} (full log: ${logPath}).`;
}

/** @param {string} path */
async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, logPath: string }} options
 * @returns {Promise<number>}
 */
function run(args, { cwd, env, logPath }) {
  const log = openSync(logPath, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', log, log] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  }).finally(() => closeSync(log));
}

async function main() {
  const rootDir = join(dirname(fileURLToPath(import.meta.url)), '..');
  const require = createRequire(join(rootDir, 'package.json'));
  const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
  const electronVersion = (await readJson(require.resolve('electron/package.json'))).version;
  const betterSqlite3Version = (await readJson(join(sqliteDir, 'package.json'))).version;

  const paths = electronNativePaths(rootDir);
  const status = electronNativeStatus({
    electronVersion, betterSqlite3Version, platform: process.platform, arch: process.arch,
    stamp: await readJson(paths.stampPath),
    bindingExists: existsSync(paths.bindingPath),
  });
  if (!status.stale && !process.argv.includes('--force')) return;

  console.log(`Building better-sqlite3 ${betterSqlite3Version} for Electron ${electronVersion} (${status.reason ?? 'forced'})…`);
  await mkdir(paths.dir, { recursive: true });
  const { logPath } = paths;
  // Build in a copy, so the Node build in node_modules (tests, CLI) is never touched.
  const work = await mkdtemp(join(tmpdir(), 'hpc-relay-sqlite-'));
  try {
    const copy = join(work, 'better-sqlite3');
    await cp(sqliteDir, copy, { recursive: true, filter: (src) => relative(sqliteDir, src).split(sep)[0] !== 'build' });
    // npm passes .npmrc's `nodedir` (Node's own headers) to scripts as npm_config_nodedir; it
    // would make node-gyp compile for Node's ABI again, silently.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.toLowerCase() !== 'npm_config_nodedir'));
    const code = await run(
      [
        require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release',
        `--target=${electronVersion}`, `--dist-url=${electronHeadersUrl}`, '--runtime=electron', `--arch=${process.arch}`, '--jobs=max',
      ],
      { cwd: copy, env, logPath },
    );
    if (code !== 0) {
      console.error(describeBuildFailure({ electronVersion, log: await readFile(logPath, 'utf8'), logPath: relative(rootDir, logPath) }));
      process.exitCode = 1;
      return;
    }
    await copyFile(join(copy, 'build', 'Release', 'better_sqlite3.node'), paths.bindingPath);
    await writeFile(paths.stampPath, `${JSON.stringify(status.wanted, null, 2)}\n`);
    console.log(`Built ${relative(rootDir, paths.bindingPath)}.`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`Could not build better-sqlite3 for Electron: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
