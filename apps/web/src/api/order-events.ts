import { getToken } from './http';
import type { OrderStatus } from './types';

export interface StatusEvent {
  orderId: string;
  status: OrderStatus;
  statusInfo: string | null;
  at: string;
}

/** Statuses after which the server ends the stream (and the client must not reconnect). */
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['PLACED', 'FAILED', 'CANCELED', 'DELIVERED'];

/**
 * Follows `GET /api/orders/{id}/events` (Server-Sent Events). EventSource cannot send an
 * Authorization header, so the token goes as the `access_token` query parameter, which the gateway
 * takes off the URL before it logs or forwards it. Closed at a terminal status; returns a stop function.
 */
export function followOrder(orderId: string, on: { status(e: StatusEvent): void; interrupted(): void }): () => void {
  const token = getToken();
  const url = `/api/orders/${encodeURIComponent(orderId)}/events${token ? `?access_token=${encodeURIComponent(token)}` : ''}`;
  const source = new EventSource(url);
  let done = false;
  source.addEventListener('status', (msg) => {
    const e = JSON.parse((msg as MessageEvent<string>).data) as StatusEvent;
    on.status(e);
    if (TERMINAL_STATUSES.includes(e.status)) {
      done = true;
      source.close();
    }
  });
  source.onerror = () => {
    // The browser reconnects by itself (with Last-Event-ID) unless the stream was refused.
    if (!done && source.readyState === EventSource.CLOSED) on.interrupted();
  };
  return () => {
    done = true;
    source.close();
  };
}
