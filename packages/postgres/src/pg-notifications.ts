import { Client } from 'pg';
import { assertChannel, type NotificationHandler, type Notifications, type NotificationSubscription } from './notifications';

const RECONNECT_DELAY_MS = 500;

/**
 * {@link Notifications} on a PostgreSQL server: one dedicated connection per channel, reconnected
 * after an error (then `onGap` tells the listener it may have missed notifications).
 *
 * @example
 * const notifications = new PgNotifications('postgres://postgres@127.0.0.1:5432/order_db', (err) => logger.warn({ err }, 'listener lost'));
 */
export class PgNotifications implements Notifications {
  constructor(
    private readonly databaseUrl: string,
    private readonly onConnectionError: (err: Error) => void = () => undefined,
  ) {}

  async listen(channel: string, handler: NotificationHandler): Promise<NotificationSubscription> {
    assertChannel(channel);
    let client: Client | undefined;
    let closed = false;
    const connect = async (): Promise<void> => {
      const c = new Client({ connectionString: this.databaseUrl });
      c.on('notification', (msg) => {
        if (msg.channel === channel && msg.payload !== undefined) handler.onNotify(msg.payload);
      });
      c.on('error', (err) => {
        this.onConnectionError(err);
        void c.end().catch(() => undefined);
        reconnectLater();
      });
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      client = c;
      // Anything that changed while nobody listened: let the listener re-read.
      handler.onGap();
    };
    const reconnectLater = (): void => {
      client = undefined;
      if (closed) return;
      setTimeout(() => {
        if (!closed) connect().catch(() => reconnectLater());
      }, RECONNECT_DELAY_MS).unref();
    };
    await connect();
    return {
      close: async () => {
        closed = true;
        await client?.end().catch(() => undefined);
      },
    };
  }
}
