import { useId } from 'react';
import type { MetricSeries } from '../../../../preload/contract';
import { formatMetric } from '../../lib/format';

const W = 250;
const H = 120;
const PAD = { left: 44, right: 10, top: 10, bottom: 24 };

/** Most series drawn; the rest are listed by name (a sweep's summary can have dozens). */
const MAX_CHARTS = 8;

/**
 * Metric curves as inline SVG, one small chart per series (loss and accuracy have different
 * scales), each with its own axis range. NaN/inf points (null) break the line.
 */
export function MetricsChart({ series }: { series: MetricSeries[] }) {
  const drawable = series.filter((s) => s.points.some(([, v]) => v !== null));
  const allNaN = series.filter((s) => !drawable.includes(s));
  if (series.length === 0) return <p className="empty">No metrics yet: they appear as the job writes metrics.csv or key=value lines.</p>;
  return (
    <div>
      <div className="charts">
        {drawable.slice(0, MAX_CHARTS).map((s) => (
          <SeriesChart key={s.series} series={s} />
        ))}
      </div>
      {(allNaN.length > 0 || drawable.length > MAX_CHARTS) && (
        <dl className="metric-values">
          {[...drawable.slice(MAX_CHARTS), ...allNaN].map((s) => {
            const last = s.points.at(-1);
            return (
              <div key={s.series}>
                <dt>{s.series}</dt>
                <dd>{last ? formatMetric(last[1]) : '—'}</dd>
              </div>
            );
          })}
        </dl>
      )}
    </div>
  );
}

function SeriesChart({ series }: { series: MetricSeries }) {
  const titleId = useId();
  const pts = series.points;
  const xs = pts.map(([x]) => x);
  const ys = pts.flatMap(([, y]) => (y === null ? [] : [y]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) {
    const d = Math.abs(y0) * 0.1 || 1;
    y0 -= d;
    y1 += d;
  }
  // One point so far (a first epoch): drawn in the middle.
  const sx = (x: number) => PAD.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);

  // "M x y L x y …", starting a new segment after every NaN.
  let d = '';
  let pen = false;
  for (const [x, y] of pts) {
    if (y === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)} `;
    pen = true;
  }
  const last = pts.filter(([, y]) => y !== null).at(-1);
  const nans = pts.length - ys.length;
  const summary = `${series.series}: ${pts.length} points from step ${x0} to ${x1}, between ${formatMetric(Math.min(...ys))} and ${formatMetric(Math.max(...ys))}${last ? `, last ${formatMetric(last[1])}` : ''}${nans ? `, ${nans} NaN` : ''}.`;

  return (
    <figure className="chart" data-series={series.series}>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-labelledby={titleId}>
        <title id={titleId}>{summary}</title>
        <line className="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
        <line className="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} />
        <line className="grid" x1={PAD.left} y1={PAD.top} x2={W - PAD.right} y2={PAD.top} />
        <text className="tick" x={PAD.left - 4} y={PAD.top + 4} textAnchor="end">
          {formatMetric(y1)}
        </text>
        <text className="tick" x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end">
          {formatMetric(y0)}
        </text>
        <text className="tick" x={PAD.left} y={H - 6} textAnchor="start">
          {x0}
        </text>
        {x1 !== x0 && (
          <text className="tick" x={W - PAD.right} y={H - 6} textAnchor="end">
            {x1}
          </text>
        )}
        <path className="series-line" d={d.trim()} />
        {pts.length <= 60 &&
          pts.map(([x, y]) => (y === null ? null : <circle key={x} className="series-dot" cx={sx(x)} cy={sy(y)} r={2.5} />))}
      </svg>
      <figcaption>
        <span className="series-name">{series.series}</span>
        {last && <span className="muted"> {formatMetric(last[1])}</span>}
      </figcaption>
    </figure>
  );
}
