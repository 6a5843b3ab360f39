/**
 * Runs `round` every `intervalMs`, one round at a time, until stopped; a failing round is handed to
 * `onError` and the next one runs as planned. The timer does not keep the process alive.
 *
 * @example
 * const rounds = new PeriodicRound(() => this.runOnce(), 1_000, (err) => logger.error({ err }, 'round failed'));
 * rounds.start();
 * await rounds.stop(); // waits for the round in hand
 */
export class PeriodicRound {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly round: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** No further rounds; resolves once the round in hand (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = this.round().then(() => undefined, this.onError);
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule();
  }
}
