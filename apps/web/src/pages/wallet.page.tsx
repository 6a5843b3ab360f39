import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/http';
import type { Wallet, WalletMove, WalletTransactionPage } from '../api/types';
import { useApi } from '../components/use-api';
import { dateTime, ErrorNotice, money, PageTitle, Spinner } from '../components/ui';
import { useSession } from '../session';

function MoveForm({ kind, customerId, onDone }: { kind: 'deposit' | 'withdraw'; customerId: string; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const id = `${kind}-amount`;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const value = Number(amount);
      const moved = await api<WalletMove>('POST', `/api/wallets/${encodeURIComponent(customerId)}/${kind}`, { amount: value });
      setDone(`${kind === 'deposit' ? 'Deposited' : 'Withdrew'} ${money(moved.transaction.amount)}; the balance is ${money(moved.balance)}.`);
      setAmount('');
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card form" onSubmit={submit}>
      <h2>{kind === 'deposit' ? 'Deposit' : 'Withdraw'}</h2>
      <label htmlFor={id}>Amount (USD)</label>
      <input id={id} name="amount" type="number" inputMode="decimal" min="0.01" step="0.01" required value={amount} onChange={(e) => setAmount(e.target.value)} />
      {error ? <ErrorNotice title={`The ${kind} failed.`} error={error} /> : null}
      {done ? (
        <p className="notice notice-ok" role="status">
          {done}
        </p>
      ) : null}
      <button type="submit" className="button" disabled={busy}>
        {busy ? 'Working…' : kind === 'deposit' ? 'Deposit' : 'Withdraw'}
      </button>
    </form>
  );
}

/** How many of the latest transactions the page shows (one page, newest first). */
const RECENT = 50;

/** Balance, deposit, withdraw and the latest transactions of the signed-in customer. */
export function WalletPage() {
  const { session } = useSession();
  const customerId = session?.sub ?? '';
  const path = `/api/wallets/${encodeURIComponent(customerId)}`;
  const [wallet, reloadWallet] = useApi((signal) => api<Wallet>('GET', path, undefined, { signal }), [path]);
  const [ledgerPage, reloadLedger] = useApi((signal) => api<WalletTransactionPage>('GET', `${path}/transactions?sort=desc&limit=${RECENT}`, undefined, { signal }), [path]);
  const ledger = { ...ledgerPage, data: ledgerPage.data?.items };
  const reload = () => {
    void reloadWallet();
    void reloadLedger();
  };

  return (
    <section>
      <PageTitle>Wallet</PageTitle>
      <div className="columns">
        <div className="card">
          <h2>Balance</h2>
          {wallet.state === 'error' ? <ErrorNotice title="The balance could not be loaded." error={wallet.error} onRetry={() => void reloadWallet()} /> : null}
          {wallet.data ? (
            <p className="amount" data-testid="wallet-balance">
              {money(wallet.data.balance, wallet.data.currency)}
            </p>
          ) : wallet.state === 'loading' ? (
            <Spinner />
          ) : null}
          <p className="muted">Customer {customerId}</p>
        </div>
        <MoveForm kind="deposit" customerId={customerId} onDone={reload} />
        <MoveForm kind="withdraw" customerId={customerId} onDone={reload} />
      </div>
      <div className="card">
        <h2>Transactions</h2>
        {ledger.state === 'error' ? <ErrorNotice title="The transactions could not be loaded." error={ledger.error} onRetry={() => void reloadLedger()} /> : null}
        {ledger.state === 'loading' && !ledger.data ? <Spinner /> : null}
        {ledger.data && ledger.data.length === 0 ? <p className="muted">No transactions yet.</p> : null}
        {ledger.data && ledger.data.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="ledger">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">Description</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {ledger.data.map((t) => (
                  <tr key={t.id}>
                    <td>{dateTime(t.createdAt)}</td>
                    <td>{t.type === 'DEBIT' ? 'PAYMENT' : t.type}</td>
                    <td>{t.description ?? t.reference ?? '—'}</td>
                    <td className={`num ${t.type === 'DEBIT' || t.type === 'WITHDRAWAL' ? 'debit' : 'credit'}`}>
                      {t.type === 'DEBIT' || t.type === 'WITHDRAWAL' ? '−' : '+'}
                      {money(t.amount, t.currency)}
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
