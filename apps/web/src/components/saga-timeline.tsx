import type { SagaDetails, SagaHistoryEntry, StepState } from '../api/types';

const ROW = 46;
const LABEL = 190;
const WIDTH = 960;
const TOP = 34;
const RIGHT = 24;

const STATE_COLOR: Record<StepState, string> = {
  PENDING: '#9ca3af',
  RUNNING: '#2563eb',
  SUCCEEDED: '#15803d',
  FAILED: '#b91c1c',
  COMPENSATING: '#b45309',
  COMPENSATED: '#b45309',
  COMPENSATION_FAILED: '#7f1d1d',
};

interface Marker {
  at: number;
  kind: 'command' | 'retry' | 'reply-ok' | 'reply-bad' | 'timeout' | 'compensation' | 'compensation-reply' | 'operator' | 'end';
  label: string;
}

function markerOf(h: SagaHistoryEntry): Marker | undefined {
  const at = Date.parse(h.at);
  const type = typeof h.detail.type === 'string' ? h.detail.type : '';
  switch (h.event) {
    case 'COMMAND_SENT':
      return { at, kind: 'command', label: `command ${type} sent` };
    case 'RETRY':
      return { at, kind: 'retry', label: `command ${type} re-sent (attempt ${String(h.detail.attempt ?? '?')})` };
    case 'REPLY':
      return { at, kind: h.detail.outcome === 'success' ? 'reply-ok' : 'reply-bad', label: `reply ${type} (${String(h.detail.outcome)})` };
    case 'TIMEOUT':
    case 'COMPENSATION_TIMEOUT':
      return { at, kind: 'timeout', label: `${h.event === 'TIMEOUT' ? 'reply' : 'compensation reply'} overdue` };
    case 'STEP_FAILED':
      return { at, kind: 'reply-bad', label: `step failed: ${String(h.detail.code ?? '')} ${String(h.detail.reason ?? '')}` };
    case 'COMPENSATION_SENT':
    case 'COMPENSATION_RETRY':
      return { at, kind: 'compensation', label: `compensation ${type} sent` };
    case 'COMPENSATION_REPLY':
      return { at, kind: 'compensation-reply', label: `compensation reply ${type}` };
    case 'OPERATOR_RETRY':
    case 'OPERATOR_CANCEL':
      return { at, kind: 'operator', label: h.event === 'OPERATOR_RETRY' ? 'operator retry' : 'operator cancel' };
    case 'COMPLETED':
    case 'COMPENSATED':
    case 'COMPENSATION_FAILED':
      return { at, kind: 'end', label: h.event.toLowerCase().replaceAll('_', ' ') };
    default:
      return undefined;
  }
}

function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

function MarkerShape({ m, x, y }: { m: Marker; x: number; y: number }) {
  const title = <title>{m.label}</title>;
  switch (m.kind) {
    case 'command':
      return (
        <circle cx={x} cy={y} r={5} fill="#fff" stroke="#1d4ed8" strokeWidth={2}>
          {title}
        </circle>
      );
    case 'retry':
      return (
        <path d={`M${x} ${y - 6} L${x + 6} ${y + 5} L${x - 6} ${y + 5} Z`} fill="#f59e0b" stroke="#92400e" strokeWidth={1}>
          {title}
        </path>
      );
    case 'reply-ok':
      return (
        <circle cx={x} cy={y} r={5} fill="#15803d">
          {title}
        </circle>
      );
    case 'reply-bad':
      return (
        <circle cx={x} cy={y} r={5} fill="#b91c1c">
          {title}
        </circle>
      );
    case 'timeout':
      return (
        <path d={`M${x - 5} ${y - 5} L${x + 5} ${y + 5} M${x + 5} ${y - 5} L${x - 5} ${y + 5}`} stroke="#b91c1c" strokeWidth={2.5}>
          {title}
        </path>
      );
    case 'compensation':
      return (
        <rect x={x - 4.5} y={y + 6} width={9} height={9} fill="#fff" stroke="#b45309" strokeWidth={2}>
          {title}
        </rect>
      );
    case 'compensation-reply':
      return (
        <rect x={x - 4.5} y={y + 6} width={9} height={9} fill="#b45309">
          {title}
        </rect>
      );
    case 'operator':
      return (
        // Above the row: an operator action shares its instant with the failure or re-send it causes.
        <path d={`M${x} ${y - 20} L${x + 5} ${y - 13} L${x} ${y - 6} L${x - 5} ${y - 13} Z`} fill="#7c3aed">
          {title}
        </path>
      );
    case 'end':
      return (
        <line x1={x} x2={x} y1={y - 14} y2={y + 14} stroke="#111827" strokeWidth={2}>
          {title}
        </line>
      );
  }
}

/**
 * One saga's steps on a time axis (SVG): a bar per step from its command to its outcome, coloured by
 * state, a compensation bar under it, and a marker per command, retry, reply, timeout and compensation.
 * Every shape has a <title> (hover / screen readers); the history table beside it has the same facts as text.
 */
export function SagaTimeline({ saga }: { saga: SagaDetails }) {
  const times = saga.history.map((h) => Date.parse(h.at));
  const t0 = Math.min(Date.parse(saga.createdAt), ...times);
  const running = saga.status === 'RUNNING' || saga.status === 'COMPENSATING';
  const tEnd = Math.max(t0 + 1, ...times, running ? Date.now() : t0 + 1);
  const span = tEnd - t0;
  const x = (t: number) => LABEL + ((t - t0) / span) * (WIDTH - LABEL - RIGHT);
  const height = TOP + saga.steps.length * ROW + 16;
  const ticks = Array.from({ length: 5 }, (_, i) => t0 + (span * i) / 4);

  const rows = saga.steps.map((step, i) => {
    const y = TOP + i * ROW + ROW / 2;
    const own = saga.history.filter((h) => h.step === step.name);
    const markers = own.map(markerOf).filter((m): m is Marker => m !== undefined);
    const start = step.startedAt ? Date.parse(step.startedAt) : undefined;
    const end = step.finishedAt ? Date.parse(step.finishedAt) : start !== undefined && step.state === 'RUNNING' ? tEnd : undefined;
    const compStart = own.find((h) => h.event === 'COMPENSATION_SENT');
    const compEnd = [...own].reverse().find((h) => h.event === 'COMPENSATION_REPLY');
    return { step, y, markers, start, end, compStart, compEnd };
  });

  const summary = saga.steps.map((s) => `${s.name}: ${s.state.toLowerCase()}${s.durationMs !== null ? ` in ${ms(s.durationMs)}` : ''}`).join('; ');
  return (
    <figure className="timeline">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={`Step timeline of saga ${saga.id}: ${summary}`} data-testid="saga-timeline">
        {ticks.map((t, i) => (
          <g key={i}>
            <line x1={x(t)} x2={x(t)} y1={TOP - 8} y2={height - 12} stroke="#e5e7eb" />
            <text x={x(t)} y={TOP - 14} textAnchor={i === 0 ? 'start' : i === 4 ? 'end' : 'middle'} className="tick">
              +{ms(t - t0)}
            </text>
          </g>
        ))}
        {rows.map(({ step, y, markers, start, end, compStart, compEnd }) => (
          <g key={step.name} data-step={step.name} data-state={step.state}>
            <text x={8} y={y - 3} className="step-name">
              {step.name}
            </text>
            <text x={8} y={y + 13} className="step-meta" fill={STATE_COLOR[step.state]}>
              {step.state.toLowerCase().replaceAll('_', ' ')}
              {step.attempts > 1 ? ` · ${step.attempts} sends` : ''}
              {step.durationMs !== null ? ` · ${ms(step.durationMs)}` : ''}
            </text>
            <line x1={LABEL} x2={WIDTH - RIGHT} y1={y} y2={y} stroke="#f3f4f6" strokeWidth={10} />
            {start !== undefined && end !== undefined ? (
              <rect x={x(start)} y={y - 5} width={Math.max(3, x(end) - x(start))} height={10} rx={3} fill={STATE_COLOR[step.state]} opacity={0.85}>
                <title>
                  {step.name}: {step.state.toLowerCase()} {step.durationMs !== null ? `in ${ms(step.durationMs)}` : ''}
                </title>
              </rect>
            ) : null}
            {compStart ? (
              <rect
                x={x(Date.parse(compStart.at))}
                y={y + 7}
                width={Math.max(3, x(compEnd ? Date.parse(compEnd.at) : tEnd) - x(Date.parse(compStart.at)))}
                height={8}
                rx={2}
                fill="#fde68a"
                stroke="#b45309"
              >
                <title>compensation of {step.name}</title>
              </rect>
            ) : null}
            {markers.map((m, k) => (
              <MarkerShape key={k} m={m} x={x(m.at)} y={y} />
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="legend">
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <circle cx="7" cy="7" r="5" fill="#fff" stroke="#1d4ed8" strokeWidth="2" />
          </svg>
          command
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <path d="M7 1 L13 12 L1 12 Z" fill="#f59e0b" />
          </svg>
          retry
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <circle cx="7" cy="7" r="5" fill="#15803d" />
          </svg>
          success reply
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <circle cx="7" cy="7" r="5" fill="#b91c1c" />
          </svg>
          failure
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <path d="M2 2 L12 12 M12 2 L2 12" stroke="#b91c1c" strokeWidth="2.5" />
          </svg>
          timeout
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <rect x="2" y="2" width="10" height="10" fill="#fde68a" stroke="#b45309" strokeWidth="2" />
          </svg>
          compensation
        </span>
        <span>
          <svg width="14" height="14" aria-hidden="true">
            <path d="M7 0 L13 7 L7 14 L1 7 Z" fill="#7c3aed" />
          </svg>
          operator action
        </span>
      </figcaption>
    </figure>
  );
}
