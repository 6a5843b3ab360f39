import type { ServerResponse } from 'node:http';
import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Admission control for the calls that run a saga: at most `maxInFlight` are passed on at once;
 * the rest wait here, first come first served, and past `maxQueued` waiting a call is turned away
 * at once (503 OVERLOADED with Retry-After) instead of piling onto the services. Under load the
 * system slows down and pushes back; the sagas already admitted keep their pace.
 *
 * @example
 * if (!(await admission.admit(reply.raw))) return overloaded(reply);
 */
export class SagaAdmission {
  private readonly limit: LimitFunction;

  constructor(private readonly o: { maxInFlight: number; maxQueued: number }) {
    this.limit = pLimit(o.maxInFlight);
  }

  get inFlight(): number {
    return this.limit.activeCount;
  }

  get queued(): number {
    return this.limit.pendingCount;
  }

  /**
   * Resolves true when the call may go on; its slot is held until `res` closes (answered, or the
   * client gone). False when the queue is full, or the client left while it waited.
   */
  admit(res: ServerResponse): Promise<boolean> {
    if (this.limit.pendingCount >= this.o.maxQueued) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      void this.limit(async () => {
        if (res.closed || res.destroyed) return resolve(false);
        resolve(true);
        await new Promise<void>((done) => res.once('close', () => done()));
      });
    });
  }
}
