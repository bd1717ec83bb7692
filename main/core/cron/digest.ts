/**
 * The deterministic monitors (they cost nothing): a digest of running and pending jobs, and the
 * heartbeat that only speaks up for long runs ("still running, epoch 37/50, ETA 2 h").
 */
import type { DigestJob } from './ports.js';

/** "45 s", "12 min", "3 h 12 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  if (h < 24) return m ? `${h} h ${m} min` : `${h} h`;
  const d = Math.floor(h / 24);
  const hh = h % 24;
  return hh ? `${d} d ${hh} h` : `${d} d`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** Seconds left, from the epoch rate; undefined without an epoch count to aim at. */
export function etaSeconds(job: DigestJob): number | undefined {
  const m = job.latestMetrics;
  if (!m || m.totalEpochs === undefined || m.totalEpochs <= 0) return undefined;
  const left = Math.max(0, m.totalEpochs - m.epoch);
  if (left === 0) return 0;
  const perEpoch = job.epochSeconds ?? (m.epoch > 0 && job.elapsedSeconds > 0 ? job.elapsedSeconds / m.epoch : undefined);
  return perEpoch === undefined ? undefined : left * perEpoch;
}

function epochText(job: DigestJob): string | undefined {
  const m = job.latestMetrics;
  if (!m) return undefined;
  return m.totalEpochs !== undefined ? `epoch ${m.epoch}/${m.totalEpochs}` : `epoch ${m.epoch}`;
}

function metricsText(job: DigestJob): string | undefined {
  const values = Object.entries(job.latestMetrics?.values ?? {}).slice(0, 4);
  return values.length ? values.map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ') : undefined;
}

function jobLine(job: DigestJob): string {
  const head = `• ${job.jobId} ${job.name}`;
  if (job.state === 'PENDING') {
    const pos = job.queuePosition !== undefined ? `, ${ordinal(job.queuePosition)} in its queue` : '';
    return `${head}: pending on ${job.partition}${pos}`;
  }
  const parts = [`${job.state.toLowerCase()} ${formatDuration(job.elapsedSeconds)} on ${job.partition}`];
  const epoch = epochText(job);
  const metrics = metricsText(job);
  if (epoch) parts.push(metrics ? `${epoch} (${metrics})` : epoch);
  else if (metrics) parts.push(metrics);
  const eta = etaSeconds(job);
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  return `${head}: ${parts.join(', ')}`;
}

/** Job lines a digest shows at most: a phone screen, not a log. */
export const DIGEST_MAX_LINES = 25;

/** The digest text: a count line, then one line per job (running first, then pending by queue position), at most DIGEST_MAX_LINES. */
export function formatDigest(jobs: readonly DigestJob[], title = 'HPC Relay digest'): string {
  const running = jobs.filter((j) => j.state !== 'PENDING');
  const pending = jobs.filter((j) => j.state === 'PENDING').sort((a, b) => (a.queuePosition ?? 1e9) - (b.queuePosition ?? 1e9));
  if (!jobs.length) return `${title}: no jobs running or pending.`;
  const counts = [running.length ? `${running.length} running` : '', pending.length ? `${pending.length} pending` : ''].filter(Boolean).join(', ');
  const lines = [...running, ...pending].map(jobLine);
  const more = lines.length > DIGEST_MAX_LINES ? [`…and ${lines.length - DIGEST_MAX_LINES} more (\`status\` in Slack or \`hpc-relay jobs\` lists them all).`] : [];
  return [`${title}: ${counts}`, ...lines.slice(0, DIGEST_MAX_LINES), ...more].join('\n');
}

/**
 * One line per job that has run at least `minRunSeconds`: "Job 1234 (train_cnn) still running,
 * epoch 37/50, ETA 2 h". Null when no job qualifies (the monitor then stays quiet).
 */
export function formatHeartbeat(jobs: readonly DigestJob[], minRunSeconds: number): string | null {
  const long = jobs.filter((j) => j.state === 'RUNNING' && j.elapsedSeconds >= minRunSeconds);
  if (!long.length) return null;
  return long
    .map((j) => {
      const parts = [`Job ${j.jobId} (${j.name}) still running`];
      const epoch = epochText(j);
      if (epoch) parts.push(epoch);
      const eta = etaSeconds(j);
      if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
      if (!epoch) parts.push(`after ${formatDuration(j.elapsedSeconds)}`);
      return parts.join(', ');
    })
    .join('\n');
}
