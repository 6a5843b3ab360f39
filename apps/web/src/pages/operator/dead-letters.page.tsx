import { useState } from 'react';
import { api, ApiError } from '../../api/http';
import type { DeadLetter, DeadLetterPage } from '../../api/types';
import { dateTime, ErrorNotice, Link, PageTitle, Spinner } from '../../components/ui';
import { useApi } from '../../components/use-api';
import { PATHS } from '../../routes';

const TOPICS = ['order.commands', 'inventory.commands', 'payment.commands', 'orchestrator.replies', 'order.events', 'payment.events', 'inventory.events'];

/** Operator: the messages of every dead-letter topic, and replay (once each). */
export function DeadLettersPage() {
  const [topic, setTopic] = useState('');
  const [replayed, setReplayed] = useState('');
  const query = [topic ? `topic=${encodeURIComponent(topic)}` : '', replayed ? `replayed=${replayed}` : '', 'sort=desc', 'limit=100'].filter(Boolean).join('&');
  const [letters, reload] = useApi((signal) => api<DeadLetterPage>('GET', `/api/dead-letters?${query}`, undefined, { signal }), [query]);
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const replay = async (l: DeadLetter) => {
    setBusy(l.id);
    setError(undefined);
    setDone(undefined);
    try {
      const r = await api<DeadLetter>('POST', `/api/dead-letters/${l.id}/replay`);
      setDone(`Dead letter ${l.id} replayed to ${l.originalTopic} as message ${r.replayMessageId ?? ''}.`);
      await reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section>
      <p>
        <Link to={PATHS.sagas}>← Saga explorer</Link>
      </p>
      <PageTitle>Dead letters</PageTitle>
      <div className="card">
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter dead letters">
          <div>
            <label htmlFor="dlq-topic">Original topic</label>
            <select id="dlq-topic" value={topic} onChange={(e) => setTopic(e.target.value)}>
              <option value="">all topics</option>
              {TOPICS.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="dlq-replayed">Replay</label>
            <select id="dlq-replayed" value={replayed} onChange={(e) => setReplayed(e.target.value)}>
              <option value="">all</option>
              <option value="false">not replayed</option>
              <option value="true">replayed</option>
            </select>
          </div>
          <button type="button" className="button button-secondary" onClick={() => void reload()}>
            Refresh
          </button>
        </form>
        {letters.data ? (
          <p className="muted" data-testid="dlq-counts">
            {letters.data.total} dead letters, {letters.data.pending} not replayed.
          </p>
        ) : null}
        {error ? <ErrorNotice title="The replay was refused." error={error} /> : null}
        {done ? (
          <p className="notice notice-ok" role="status">
            {done}
          </p>
        ) : null}
        {letters.state === 'error' ? <ErrorNotice title="The dead letters could not be loaded." error={letters.error} onRetry={() => void reload()} /> : null}
        {letters.state === 'loading' && !letters.data ? <Spinner label="Loading dead letters…" /> : null}
        {letters.data && letters.data.items.length === 0 ? <p className="muted">No dead letter matches.</p> : null}
        {letters.data && letters.data.items.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="dead-letters">
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Topic</th>
                  <th scope="col">Message</th>
                  <th scope="col">Why</th>
                  <th scope="col">Replay</th>
                </tr>
              </thead>
              <tbody>
                {letters.data.items.map((l) => (
                  <tr key={l.id} data-letter={l.id} data-saga={l.sagaId ?? ''}>
                    <td>{dateTime(l.receivedAt)}</td>
                    <td>
                      <code>{l.originalTopic}</code>
                    </td>
                    <td>
                      {l.messageType ?? <span className="muted">no type</span>}
                      {l.sagaId ? (
                        <>
                          {' '}
                          · saga <code>{l.sagaId}</code>
                        </>
                      ) : null}
                      <details>
                        <summary>Payload</summary>
                        <pre>{JSON.stringify(l.envelope.payload, null, 2) ?? 'none'}</pre>
                      </details>
                    </td>
                    <td>
                      <strong>{l.reason}</strong>: {l.error}
                    </td>
                    <td>
                      {l.replayedAt ? (
                        <span className="badge badge-ok" data-testid="replayed">
                          replayed {dateTime(l.replayedAt)}
                        </span>
                      ) : (
                        <button type="button" className="button button-secondary" disabled={busy !== undefined} onClick={() => void replay(l)} aria-label={`Replay dead letter ${l.id}`}>
                          {busy === l.id ? 'Replaying…' : 'Replay'}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}
