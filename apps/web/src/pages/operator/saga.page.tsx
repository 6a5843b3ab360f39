import { useState } from 'react';
import { api, ApiError } from '../../api/http';
import type { SagaDetails } from '../../api/types';
import { SagaTimeline } from '../../components/saga-timeline';
import { dateTime, ErrorNotice, Link, PageTitle, Spinner, StatusBadge } from '../../components/ui';
import { useApi } from '../../components/use-api';
import { useInterval } from '../../components/use-interval';
import { PATHS } from '../../routes';

function detailText(d: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof d.type === 'string') parts.push(d.type);
  if (d.attempt !== undefined) parts.push(`attempt ${String(d.attempt)}`);
  if (typeof d.outcome === 'string') parts.push(d.outcome);
  if (typeof d.code === 'string') parts.push(d.code);
  if (typeof d.reason === 'string') parts.push(d.reason);
  if (typeof d.messageId === 'string') parts.push(`message ${d.messageId}`);
  return parts.join(' · ');
}

/** Operator: one saga's step timeline (SVG), its history, and the retry / cancel actions. */
export function SagaPage({ sagaId }: { sagaId: string }) {
  const [saga, reload] = useApi((signal) => api<SagaDetails>('GET', `/api/sagas/${encodeURIComponent(sagaId)}`, undefined, { signal }), [sagaId]);
  const [busy, setBusy] = useState<'retry' | 'cancel' | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const inFlight = saga.data?.status === 'RUNNING' || saga.data?.status === 'COMPENSATING';
  useInterval(() => void reload(), inFlight ? 1_500 : null);

  const act = async (action: 'retry' | 'cancel') => {
    setBusy(action);
    setError(undefined);
    setDone(undefined);
    try {
      await api('POST', `/api/sagas/${encodeURIComponent(sagaId)}/${action}`, action === 'cancel' ? (reason.trim() ? { reason: reason.trim() } : {}) : undefined);
      setDone(action === 'retry' ? 'Retry sent.' : 'Cancel sent: the saga compensates.');
      setConfirming(false);
      await reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
    } finally {
      setBusy(undefined);
    }
  };

  if (saga.state === 'error' && !saga.data) return <ErrorNotice title="The saga could not be loaded." error={saga.error} onRetry={() => void reload()} />;
  if (!saga.data) return <Spinner label="Loading the saga…" />;
  const s = saga.data;
  const t0 = Date.parse(s.createdAt);
  const canRetry = !s.versionMissing && (s.status === 'RUNNING' || s.status === 'COMPENSATION_FAILED');
  const canCancel = !s.versionMissing && s.status === 'RUNNING';

  return (
    <section>
      <p>
        <Link to={PATHS.sagas}>← All sagas</Link>
      </p>
      <PageTitle>
        Saga <code className="title-id">{s.id}</code>
      </PageTitle>
      <div className="card">
        <dl className="facts facts-row">
          <dt>State</dt>
          <dd data-testid="saga-status">
            <StatusBadge status={s.status} />
          </dd>
          <dt>Type</dt>
          <dd>{s.type}</dd>
          <dt>Version</dt>
          <dd data-testid="saga-version">
            v{s.definitionVersion}
            {s.versionMissing ? (
              <>
                {' '}
                <StatusBadge status="VERSION_MISSING" />
              </>
            ) : null}
          </dd>
          <dt>Current step</dt>
          <dd>
            {s.currentStep} (attempt {s.attempt})
          </dd>
          <dt>Started</dt>
          <dd>{dateTime(s.createdAt)}</dd>
          <dt>Deadline</dt>
          <dd>{dateTime(s.deadlineAt)}</dd>
          {s.failure ? (
            <>
              <dt>Failure</dt>
              <dd data-testid="saga-failure">
                {s.failure.code} at {s.failure.step}: {s.failure.reason}
              </dd>
            </>
          ) : null}
        </dl>
        <div className="actions">
          <button type="button" className="button button-secondary" disabled={!canRetry || busy !== undefined} onClick={() => void act('retry')}>
            {s.status === 'COMPENSATION_FAILED' ? 'Retry compensation' : 'Retry step'}
          </button>
          {!confirming ? (
            <button type="button" className="button button-danger" disabled={!canCancel || busy !== undefined} onClick={() => setConfirming(true)}>
              Cancel saga
            </button>
          ) : (
            <div className="confirm" role="group" aria-label="Confirm cancel">
              <label htmlFor="cancel-reason">Reason (optional)</label>
              <input id="cancel-reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
              <button type="button" className="button button-danger" disabled={busy !== undefined} onClick={() => void act('cancel')}>
                Confirm cancel
              </button>
              <button type="button" className="button button-secondary" onClick={() => setConfirming(false)}>
                Keep running
              </button>
            </div>
          )}
        </div>
        {s.versionMissing ? (
          <p className="notice notice-warn" role="status" data-testid="saga-version-missing">
            This saga runs on {s.type} v{s.definitionVersion}, a version this orchestrator does not have registered: it waits, and the replies it gets
            are kept ({s.parkedEvents} so far). Register the version again (PLACE_ORDER_SAGA_VERSIONS) to resume it; retry and cancel need it too.
          </p>
        ) : null}
        {s.status === 'COMPENSATING' ? <p className="muted">The saga is compensating. If a compensation keeps failing it becomes COMPENSATION_FAILED, and retry applies.</p> : null}
        {s.status === 'COMPLETED' || s.status === 'COMPENSATED' ? <p className="muted">The saga has ended: no action applies.</p> : null}
        {error ? <ErrorNotice title="The action was refused." error={error} /> : null}
        {done ? (
          <p className="notice notice-ok" role="status">
            {done}
          </p>
        ) : null}
      </div>
      <div className="card">
        <h2>Step timeline</h2>
        <SagaTimeline saga={s} />
      </div>
      <div className="card">
        <h2>History</h2>
        <div className="table-scroll">
          <table className="table" data-testid="saga-history">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col" className="num">
                  +ms
                </th>
                <th scope="col">Step</th>
                <th scope="col">Event</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {s.history.map((h) => (
                <tr key={h.seq}>
                  <td>{h.seq}</td>
                  <td className="num">{Date.parse(h.at) - t0}</td>
                  <td>{h.step}</td>
                  <td>{h.event}</td>
                  <td className="detail">{detailText(h.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
