import type { PGlite } from '@electric-sql/pglite';
import { assertChannel, type NotificationHandler, type Notifications, type NotificationSubscription } from '../notifications';

/**
 * {@link Notifications} on a PGlite instance: `NOTIFY` from any schema's transaction reaches
 * `listen` in the same process. There is no connection to lose, so `onGap` is called once, at start.
 *
 * @example
 * const sub = await new PgliteNotifications(pg).listen('order_status', { onNotify, onGap });
 */
export class PgliteNotifications implements Notifications {
  constructor(private readonly pg: PGlite) {}

  async listen(channel: string, handler: NotificationHandler): Promise<NotificationSubscription> {
    assertChannel(channel);
    const unlisten = await this.pg.listen(channel, (payload) => handler.onNotify(payload));
    handler.onGap();
    return { close: () => unlisten() };
  }
}
