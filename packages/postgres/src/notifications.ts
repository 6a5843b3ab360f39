/**
 * LISTEN/NOTIFY behind a port, so a service that follows changes by notification runs on a
 * PostgreSQL server (one dedicated `pg` connection) or on PGlite (its in-process `listen`).
 *
 * @example
 * const sub = await notifications.listen('order_status', {
 *   onNotify: (payload) => wake(payload),
 *   onGap: () => rereadEverything(), // notifications may have been missed (reconnect)
 * });
 * await sub.close();
 */
export interface NotificationHandler {
  onNotify(payload: string): void;
  /** Called after the listener (re)connected: notifications sent meanwhile were missed. */
  onGap(): void;
}

export interface NotificationSubscription {
  close(): Promise<void>;
}

export interface Notifications {
  /** Resolves once listening on `channel`. */
  listen(channel: string, handler: NotificationHandler): Promise<NotificationSubscription>;
}

/** A channel name as LISTEN takes it (an identifier: it cannot be a bind parameter). */
export function assertChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
}
