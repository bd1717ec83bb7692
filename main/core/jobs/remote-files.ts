import type { ClusterService } from '../cluster/cluster-service.js';
import { RelayError } from '../errors.js';

/**
 * The few remote file operations the job service needs, behind one interface: the remote
 * directory and uploads come from the cluster service (SFTP on the shared connection), byte
 * ranges of many files come from one constant `sh -c` script with the paths as positional
 * parameters (one command for every file of a refresh, and reads from the end without a stat).
 */
export interface RemoteFiles {
  /** cluster.remoteDir resolved to an absolute path on the cluster (created if missing). */
  resolveDir(): Promise<string>;
  /** Creates a directory (and its parents) readable only by the user. */
  ensureDir(dir: string): Promise<void>;
  /** Writes a file readable only by the user; `executable` adds u+x. */
  upload(path: string, content: string | Buffer, opts?: { executable?: boolean }): Promise<void>;
  /** Creates the file if missing and returns its size in bytes. */
  touchSize(path: string): Promise<number>;
  /** Reads byte ranges of several files in one command. */
  readRanges(reqs: readonly RangeRequest[]): Promise<RangeResult[]>;
  /** Like touchSize, with the file's inode: which generation of a rotated file this is. */
  touchStat?(path: string): Promise<{ size: number; inode: string }>;
  /**
   * Renames `path` to `path.1` (replacing an older one) and starts an empty `path`, when `path`
   * has at least `minBytes`; false when it was smaller (someone rotated it already) or another
   * process is rotating it right now.
   */
  rotate?(path: string, minBytes: number): Promise<boolean>;
}

export interface RangeRequest {
  path: string;
  /** Byte offset to start at; negative means that many bytes before the end. */
  offset: number;
  /** At most this many bytes. */
  cap: number;
}

export interface RangeResult {
  path: string;
  /** Null when the file does not exist (yet). */
  size: number | null;
  /** Where the bytes start (0 when the file shrank below the offset: it was replaced). */
  start: number;
  data: Buffer;
}

export const TOUCH_SIZE_SCRIPT = 'umask 077; mkdir -p "$(dirname "$1")" && touch "$1" && wc -c < "$1"';
export const TOUCH_STAT_SCRIPT = 'umask 077; mkdir -p "$(dirname "$1")" && touch "$1" && s=$(wc -c < "$1") && i=$(ls -i "$1" | awk \'{print $1}\') && echo "$((s + 0)) $i"';
/**
 * A rotation of the events file: under a lock directory (two relay processes never rotate at once),
 * only while the file is still at least $2 bytes, `mv` to `$1.1` and a new empty `$1`. Wrappers
 * append by name (`>>` opens the file at each write), so every line after the rename lands in the
 * new file; one whose writer had opened the old file just before lands in `$1.1`. Exit 3: not rotated.
 */
export const ROTATE_SCRIPT = [
  'f=$1',
  // A lock left by a rotation that was killed half-way is stale after a minute.
  'find "$f.rotating" -maxdepth 0 -mmin +1 -exec rmdir {} \\; 2>/dev/null',
  'mkdir "$f.rotating" 2>/dev/null || exit 3',
  'trap \'rmdir "$f.rotating"\' EXIT',
  's=$(wc -c < "$f" 2>/dev/null) || exit 3',
  '[ "$((s + 0))" -ge "$2" ] || exit 3',
  'mv -f "$f" "$f.1" || exit 1',
  'umask 077; : >> "$f"',
].join('\n');
export const READ_RANGES_SCRIPT = [
  'i=0',
  'while [ "$#" -ge 3 ]; do',
  '  f=$1; off=$2; cap=$3; shift 3',
  '  if [ -f "$f" ] && [ -r "$f" ]; then',
  '    size=$(wc -c < "$f"); size=$((size + 0))',
  '    if [ "$off" -lt 0 ]; then off=$((size + off)); if [ "$off" -lt 0 ]; then off=0; fi; fi',
  '    if [ "$off" -gt "$size" ]; then off=0; fi',
  "    printf '%s %s %s\\n' \"$i\" \"$size\" \"$off\"",
  '    tail -c "+$((off + 1))" "$f" | head -c "$cap" | base64 | tr -d \'\\n\'',
  "    printf '\\n'",
  '  else',
  "    printf '%s - -\\n\\n' \"$i\"",
  '  fi',
  '  i=$((i + 1))',
  'done',
].join('\n');

export class ClusterRemoteFiles implements RemoteFiles {
  constructor(private readonly cluster: () => ClusterService) {}

  resolveDir(): Promise<string> {
    return this.cluster().remoteDir();
  }

  async ensureDir(dir: string): Promise<void> {
    await this.cluster().run(['sh', '-c', 'umask 077; mkdir -p -- "$1"', 'sh', dir], { timeoutMs: 30_000, idempotent: true });
  }

  upload(path: string, content: string | Buffer, opts: { executable?: boolean } = {}): Promise<void> {
    return this.cluster().writeFile(path, content, opts.executable ? 0o700 : 0o600);
  }

  async touchSize(path: string): Promise<number> {
    const out = await this.cluster().run(['sh', '-c', TOUCH_SIZE_SCRIPT, 'sh', path], { timeoutMs: 30_000, idempotent: true });
    const n = Number(out.trim());
    if (!Number.isInteger(n)) throw new RelayError('REMOTE_COMMAND_FAILED', `Could not read the size of ${path}.`);
    return n;
  }

  async touchStat(path: string): Promise<{ size: number; inode: string }> {
    const out = await this.cluster().run(['sh', '-c', TOUCH_STAT_SCRIPT, 'sh', path], { timeoutMs: 30_000, idempotent: true });
    const m = /^(\d+) (\d+)\s*$/.exec(out.trim());
    if (!m?.[1] || !m[2]) throw new RelayError('REMOTE_COMMAND_FAILED', `Could not read the size of ${path}.`);
    return { size: Number(m[1]), inode: m[2] };
  }

  async rotate(path: string, minBytes: number): Promise<boolean> {
    const r = await this.cluster().exec(['sh', '-c', ROTATE_SCRIPT, 'sh', path, String(Math.max(0, Math.floor(minBytes)))], { timeoutMs: 30_000 });
    if (r.code === 3) return false;
    if (r.code !== 0) throw new RelayError('REMOTE_COMMAND_FAILED', `Could not rotate ${path}: ${(r.stderr || r.stdout).trim().slice(0, 200) || `exit ${r.code ?? r.signal}`}.`);
    return true;
  }

  async readRanges(reqs: readonly RangeRequest[]): Promise<RangeResult[]> {
    if (reqs.length === 0) return [];
    const args = reqs.flatMap((r) => [r.path, String(Math.trunc(r.offset)), String(Math.max(0, Math.trunc(r.cap)))]);
    const total = reqs.reduce((n, r) => n + r.cap, 0);
    const out = await this.cluster().run(['sh', '-c', READ_RANGES_SCRIPT, 'sh', ...args], { timeoutMs: 60_000, maxOutputBytes: Math.ceil(total * 1.4) + 4096, idempotent: true });
    return parseRanges(out, reqs);
  }
}

/** Reads READ_RANGES_SCRIPT's output: per file a line `i size start` (or `i - -`), then its bytes in base64. */
export function parseRanges(out: string, reqs: readonly RangeRequest[]): RangeResult[] {
  const lines = out.split('\n');
  const results: RangeResult[] = [];
  for (let k = 0; k + 1 < lines.length && results.length < reqs.length; k += 2) {
    const m = /^(\d+) (\d+|-) (\d+|-)$/.exec(lines[k] ?? '');
    const req = m ? reqs[Number(m[1])] : undefined;
    if (!m || !req) throw new RelayError('REMOTE_COMMAND_FAILED', 'Reading job files on the cluster returned output HPC Relay cannot read.', { fix: 'Check that base64, tail and head are available on the login node.' });
    results.push({ path: req.path, size: m[2] === '-' ? null : Number(m[2]), start: m[3] === '-' ? 0 : Number(m[3]), data: Buffer.from(lines[k + 1] ?? '', 'base64') });
  }
  return results;
}
