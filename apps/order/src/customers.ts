import { AppError, ErrorCode } from '@saga/contracts';
import { traceHeaders } from '@saga/telemetry';
import type { Logger } from 'pino';

/**
 * Whether a customer exists, asked of the wallet service (every customer has a wallet: it is the
 * customer registry of DESIGN §1) and remembered: customers are never deleted, so a known customer
 * costs no call again. An unknown one is refused before anything is written (UNKNOWN_CUSTOMER 404,
 * naming `customerId`). When the wallet service cannot say (down, slow), the order goes ahead: its
 * saga's payment step refuses an unknown customer anyway, and orders keep flowing during an outage.
 *
 * @example
 * const customers = new CustomerDirectory(env.WALLET_URL, logger);
 * await customers.assertKnown('CUS_0001'); // throws UNKNOWN_CUSTOMER for 'CUS_9999'
 */
export class CustomerDirectory {
  private readonly known = new Set<string>();
  /** Concurrent checks of one customer share one call. */
  private readonly asking = new Map<string, Promise<boolean | undefined>>();

  constructor(
    private readonly walletUrl: string,
    private readonly logger: Logger,
    private readonly o: { timeoutMs?: number; maxRemembered?: number } = {},
  ) {}

  async assertKnown(customerId: string): Promise<void> {
    if (this.known.has(customerId)) return;
    let asked = this.asking.get(customerId);
    if (asked === undefined) {
      asked = this.ask(customerId).finally(() => this.asking.delete(customerId));
      this.asking.set(customerId, asked);
    }
    const exists = await asked;
    if (exists === false) {
      throw new AppError(ErrorCode.UnknownCustomer, `customerId: customer ${customerId} does not exist`, { field: 'customerId', customerId });
    }
  }

  /** true / false as the wallet service answers, undefined when it cannot be asked. */
  private async ask(customerId: string): Promise<boolean | undefined> {
    try {
      const res = await fetch(`${this.walletUrl}/api/wallets/${encodeURIComponent(customerId)}`, {
        headers: traceHeaders(),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 2_000),
      });
      await res.body?.cancel();
      if (res.status === 200) {
        this.remember(customerId);
        return true;
      }
      if (res.status === 404) return false;
      this.logger.warn({ customerId, status: res.status }, 'wallet service could not say whether the customer exists: order accepted');
    } catch (err) {
      this.logger.warn({ customerId, err: (err as Error).message }, 'wallet service unreachable to check the customer: order accepted');
    }
    return undefined;
  }

  private remember(customerId: string): void {
    const max = this.o.maxRemembered ?? 100_000;
    if (this.known.size >= max) this.known.delete(this.known.keys().next().value as string);
    this.known.add(customerId);
  }
}
