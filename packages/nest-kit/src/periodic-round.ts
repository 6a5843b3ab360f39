/**
 * Runs `round` every `intervalMs`, one round at a time, until stopped: the loop of every poller and
 * reconciler. A round whose result `again` accepts (e.g. a full batch: more is waiting) is followed
 * by the next one at once. A failing round is handed to `onError` and the next one runs as planned.
 * The timer does not keep the process alive.
 *
 * @example
 * const rounds = new PeriodicRound(() => this.runOnce(), { intervalMs: 1_000, onError: (err) => logger.error({ err }, 'round failed') });
 * rounds.start();
 * await rounds.stop(); // waits for the round in hand
 */
export class PeriodicRound<T = unknown> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly round: () => Promise<T>,
    private readonly o: { intervalMs: number; onError: (err: unknown) => void; again?: (result: T) => boolean },
  ) {}

  /** The first round runs after `firstDelayMs` (default: one interval). */
  start(firstDelayMs = this.o.intervalMs): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** No further rounds; resolves once the round in hand (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    let next = this.o.intervalMs;
    this.running = this.round().then(
      (result) => {
        if (this.o.again?.(result)) next = 0;
      },
      this.o.onError,
    );
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(next);
  }
}
