import { useState } from 'react';
import { api } from '../../api/http';
import { SAGA_STATUSES, type SagaPage, type SagaStats, type SagaStatus } from '../../api/types';
import { OutcomeChart } from '../../components/outcome-chart';
import { dateTime, ErrorNotice, Link, PageTitle, Spinner, StatusBadge } from '../../components/ui';
import { useApi } from '../../components/use-api';
import { useInterval } from '../../components/use-interval';
import { PATHS } from '../../routes';

const AGES = [
  { value: '', label: 'any age', query: '' },
  { value: 'new-1m', label: 'started in the last minute', query: 'maxAgeSeconds=60' },
  { value: 'new-1h', label: 'started in the last hour', query: 'maxAgeSeconds=3600' },
  { value: 'old-1m', label: 'older than a minute', query: 'minAgeSeconds=60' },
  { value: 'old-10m', label: 'older than 10 minutes', query: 'minAgeSeconds=600' },
  { value: 'old-1h', label: 'older than an hour', query: 'minAgeSeconds=3600' },
];
const PAGE = 25;
/** The saga types the orchestrator runs (GET /api/sagas?type=…). */
const SAGA_TYPES = ['PlaceOrder', 'ReturnOrder'];

/** Operator: the live outcome chart and the sagas, filtered by state and age. */
export function SagasPage() {
  // a status, or 'VERSION_MISSING': the unfinished sagas whose definition version is not registered
  const [status, setStatus] = useState<SagaStatus | 'VERSION_MISSING' | ''>('');
  const [age, setAge] = useState('');
  const [type, setType] = useState('');
  // The cursors of the pages walked to (newest first); empty: the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const query = [status === 'VERSION_MISSING' ? 'versionMissing=true' : status ? `status=${status}` : '', type ? `type=${type}` : '', AGES.find((a) => a.value === age)?.query ?? '', 'sort=desc', `limit=${PAGE}`, cursor ? `cursor=${cursor}` : '']
    .filter(Boolean)
    .join('&');
  const [sagas, reloadSagas] = useApi((signal) => api<SagaPage>('GET', `/api/sagas?${query}`, undefined, { signal }), [query]);
  const [stats, reloadStats] = useApi((signal) => api<SagaStats>('GET', '/api/sagas/stats?seconds=60', undefined, { signal }), []);
  const [live, setLive] = useState(true);
  useInterval(() => void reloadStats(), live ? 2_000 : null);
  useInterval(() => void reloadSagas(), live && cursors.length === 0 ? 5_000 : null);

  return (
    <section>
      <PageTitle
        actions={
          <>
            <label className="switch">
              <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live updates
            </label>
            <Link to={PATHS.deadLetters} className="button button-secondary">
              Dead letters
            </Link>
          </>
        }
      >
        Saga explorer
      </PageTitle>
      <div className="card">
        <h2>Sagas per second by outcome</h2>
        {stats.state === 'error' ? <ErrorNotice title="The outcome rates could not be loaded." error={stats.error} onRetry={() => void reloadStats()} /> : null}
        {stats.data ? <OutcomeChart buckets={stats.data.buckets} /> : stats.state === 'loading' ? <Spinner /> : null}
      </div>
      <div className="card">
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter sagas">
          <div>
            <label htmlFor="saga-status">State</label>
            <select
              id="saga-status"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as SagaStatus | 'VERSION_MISSING' | '');
                setCursors([]);
              }}
            >
              <option value="">all states</option>
              {SAGA_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
              <option value="VERSION_MISSING">version missing (waiting for its definition)</option>
            </select>
          </div>
          <div>
            <label htmlFor="saga-type">Type</label>
            <select
              id="saga-type"
              value={type}
              onChange={(e) => {
                setType(e.target.value);
                setCursors([]);
              }}
            >
              <option value="">all types</option>
              {SAGA_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="saga-age">Age</label>
            <select
              id="saga-age"
              value={age}
              onChange={(e) => {
                setAge(e.target.value);
                setCursors([]);
              }}
            >
              {AGES.map((a) => (
                <option key={a.value} value={a.value}>
                  {a.label}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="button button-secondary" onClick={() => void reloadSagas()}>
            Refresh
          </button>
        </form>
        {sagas.state === 'error' ? <ErrorNotice title="The sagas could not be loaded." error={sagas.error} onRetry={() => void reloadSagas()} /> : null}
        {sagas.state === 'loading' && !sagas.data ? <Spinner label="Loading sagas…" /> : null}
        {sagas.data && sagas.data.items.length === 0 ? <p className="muted">No saga matches.</p> : null}
        {sagas.data && sagas.data.items.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="saga-list">
              <caption className="visually-hidden">Sagas, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Saga</th>
                  <th scope="col">Type</th>
                  <th scope="col">State</th>
                  <th scope="col">Version</th>
                  <th scope="col">Step</th>
                  <th scope="col">Started</th>
                  <th scope="col">Failure</th>
                </tr>
              </thead>
              <tbody>
                {sagas.data.items.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link to={PATHS.saga(s.id)}>
                        <code>{s.id}</code>
                      </Link>
                    </td>
                    <td>{s.type}</td>
                    <td>
                      <StatusBadge status={s.status} />
                      {s.versionMissing ? (
                        <>
                          {' '}
                          <StatusBadge status="VERSION_MISSING" />
                        </>
                      ) : null}
                    </td>
                    <td>v{s.definitionVersion}</td>
                    <td>
                      {s.currentStep}
                      {s.attempt > 1 ? <span className="muted"> (attempt {s.attempt})</span> : null}
                    </td>
                    <td>{dateTime(s.createdAt)}</td>
                    <td>{s.failure ? `${s.failure.code}: ${s.failure.reason}` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <div className="actions">
          <button type="button" className="button button-secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            className="button button-secondary"
            disabled={!sagas.data?.nextCursor}
            onClick={() => sagas.data?.nextCursor && setCursors([...cursors, sagas.data.nextCursor])}
          >
            Older
          </button>
        </div>
      </div>
    </section>
  );
}
