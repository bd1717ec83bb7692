/**
 * SLURM's time and memory notations, parsed and written back in one canonical form, so a resubmit
 * can bump `--time` or `--mem` by 50% and the record shows what sbatch was given.
 */

const DURATION_FORMS: { re: RegExp; parts: ('d' | 'h' | 'm' | 's')[] }[] = [
  { re: /^(\d+)$/, parts: ['m'] },
  { re: /^(\d+):(\d{1,2})$/, parts: ['m', 's'] },
  { re: /^(\d+):(\d{1,2}):(\d{1,2})$/, parts: ['h', 'm', 's'] },
  { re: /^(\d+)-(\d{1,2})$/, parts: ['d', 'h'] },
  { re: /^(\d+)-(\d{1,2}):(\d{1,2})$/, parts: ['d', 'h', 'm'] },
  { re: /^(\d+)-(\d{1,2}):(\d{1,2}):(\d{1,2})$/, parts: ['d', 'h', 'm', 's'] },
];

/**
 * Seconds in a SLURM time limit: `minutes`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or
 * `D-HH:MM:SS` (sbatch's forms). Null when the text is none of them or a field overflows
 * (minutes or seconds ≥ 60 after the first field, hours ≥ 24 after a day count).
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  for (const form of DURATION_FORMS) {
    const m = form.re.exec(t);
    if (!m) continue;
    const v = { d: 0, h: 0, m: 0, s: 0 };
    form.parts.forEach((p, i) => { v[p] = Number(m[i + 1]); });
    const first = form.parts[0];
    if (first !== 'm' && v.m >= 60) return null;
    if (form.parts.length > 1 && v.s >= 60) return null;
    if (first === 'd' && v.h >= 24) return null;
    const seconds = ((v.d * 24 + v.h) * 60 + v.m) * 60 + v.s;
    return Number.isSafeInteger(seconds) ? seconds : null;
  }
  return null;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `HH:MM:SS` below a day, `D-HH:MM:SS` from a day on: forms every sbatch accepts. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const hms = `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

const MEMORY_UNITS: Record<string, number> = { K: 1, M: 1024, G: 1024 ** 2, T: 1024 ** 3 };

/**
 * Kibibytes in a SLURM memory size: a number with an optional K, M, G or T suffix (any case, an
 * optional `B`/`iB` after it); no suffix means megabytes, as sbatch reads it. `1.5G` is allowed
 * and becomes 1536M. Null for anything else, or for zero.
 */
export function parseMemory(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = MEMORY_UNITS[(m[2] || 'M').toUpperCase()] ?? 1024;
  const kib = Math.ceil(Number(m[1]) * unit);
  return kib > 0 && Number.isSafeInteger(kib) ? kib : null;
}

/** The largest unit that writes the size as a whole number: 2048K → 2M, 1536M → 1536M, 4096M → 4G. */
export function formatMemory(kib: number): string {
  const k = Math.max(1, Math.ceil(kib));
  for (const u of ['T', 'G', 'M'] as const) {
    const size = MEMORY_UNITS[u] ?? 1;
    if (k % size === 0) return `${k / size}${u}`;
  }
  return `${k}K`;
}
