import type { MouseEvent, ReactNode } from 'react';
import type { ApiError } from '../api/http';
import { navigate } from '../routes';

/** Money as the API gives it (a decimal number) in its currency. */
export function money(amount: number, currency = 'USD'): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** An in-app link: a real <a href> (keyboard, middle click) that navigates without a reload. */
export function Link({ to, children, className, ...rest }: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} {...rest}>
      {children}
    </a>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

/** An error message of a call, with its code, and a retry when one makes sense. */
export function ErrorNotice({ error, onRetry, title }: { error: ApiError; onRetry?: () => void; title?: string }) {
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <strong>{title ?? 'Something went wrong.'}</strong> {error.message}
        {error.code && error.code !== 'NETWORK' ? <span className="code"> ({error.code})</span> : null}
      </p>
      {onRetry ? (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

const STATUS_TONE: Record<string, string> = {
  PLACED: 'ok',
  DELIVERED: 'ok',
  ON_WAY: 'ok',
  COMPLETED: 'ok',
  SUCCEEDED: 'ok',
  PAYMENT_DONE: 'info',
  PAYMENT_PENDING: 'info',
  RETURN_PENDING: 'info',
  RETURNED: 'neutral',
  RUNNING: 'info',
  INITIATED: 'neutral',
  PENDING: 'neutral',
  COMPENSATING: 'warn',
  VERSION_MISSING: 'bad',
  COMPENSATED: 'warn',
  CANCELED: 'neutral',
  FAILED: 'bad',
  COMPENSATION_FAILED: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${STATUS_TONE[status] ?? 'neutral'}`}>{status.replaceAll('_', ' ')}</span>;
}

export function PageTitle({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-title">
      <h1 tabIndex={-1}>{children}</h1>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}
