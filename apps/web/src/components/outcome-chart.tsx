import type { OutcomeBucket } from '../api/types';

const W = 960;
const H = 200;
const PAD = { left: 40, right: 12, top: 12, bottom: 26 };
const SERIES = [
  { key: 'COMPLETED', color: '#15803d', label: 'completed' },
  { key: 'COMPENSATED', color: '#b45309', label: 'compensated' },
  { key: 'COMPENSATION_FAILED', color: '#7f1d1d', label: 'compensation failed' },
] as const;

/** Sagas ended per second by outcome (stacked bars, SVG), the newest second on the right. */
export function OutcomeChart({ buckets }: { buckets: readonly OutcomeBucket[] }) {
  const totals = buckets.map((b) => b.COMPLETED + b.COMPENSATED + b.COMPENSATION_FAILED);
  const max = Math.max(1, ...totals);
  // An even top (4, 10, 20 …) so the middle grid line is a whole number.
  const niceMax = max <= 4 ? 4 : Math.ceil(max / 10) * 10;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const bw = plotW / Math.max(1, buckets.length);
  const y = (v: number) => PAD.top + plotH - (v / niceMax) * plotH;
  const sum = (k: (typeof SERIES)[number]['key']) => buckets.reduce((s, b) => s + b[k], 0);
  const last10 = buckets.slice(-10);
  const rate = last10.reduce((s, b) => s + b.COMPLETED + b.COMPENSATED + b.COMPENSATION_FAILED, 0) / Math.max(1, last10.length);
  const label = `Sagas ended per second over the last ${buckets.length} s: ${SERIES.map((s) => `${sum(s.key)} ${s.label}`).join(', ')}; ${rate.toFixed(1)} per second over the last 10 s.`;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} data-testid="outcome-chart">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(niceMax * f)} y2={y(niceMax * f)} stroke="#e5e7eb" />
            <text x={PAD.left - 6} y={y(niceMax * f) + 4} textAnchor="end" className="tick">
              {Math.round(niceMax * f)}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          let base = 0;
          return (
            <g key={b.at}>
              {SERIES.map((s) => {
                const v = b[s.key];
                if (v === 0) return null;
                const rect = <rect key={s.key} x={PAD.left + i * bw + 1} y={y(base + v)} width={Math.max(1, bw - 2)} height={y(base) - y(base + v)} fill={s.color}>
                  <title>{`${new Date(b.at).toLocaleTimeString()}: ${v} ${s.label}`}</title>
                </rect>;
                base += v;
                return rect;
              })}
            </g>
          );
        })}
        <text x={PAD.left} y={H - 6} className="tick">
          −{buckets.length} s
        </text>
        <text x={W - PAD.right} y={H - 6} textAnchor="end" className="tick">
          now
        </text>
      </svg>
      <figcaption className="legend">
        {SERIES.map((s) => (
          <span key={s.key}>
            <svg width="14" height="14" aria-hidden="true">
              <rect width="14" height="14" fill={s.color} />
            </svg>
            {s.label} ({sum(s.key)})
          </span>
        ))}
        <span className="muted">{rate.toFixed(1)}/s (last 10 s)</span>
      </figcaption>
    </figure>
  );
}
