import type { Logger } from 'pino';
import { stopTracing } from '@saga/telemetry';

/**
 * Runs a service's `main`: on SIGTERM or SIGINT calls `stop` once and exits 0 (1 if stopping
 * failed); a start-up failure prints its message and exits 1.
 *
 * @example
 * runService(async () => {
 *   const wallet = await startWallet(env, logger);
 *   return { logger, stop: () => wallet.stop() };
 * });
 */
export function runService(main: () => Promise<{ logger: Logger; stop: () => Promise<void> }>): void {
  main().then(
    ({ logger, stop }) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        // Spans still buffered are flushed last, so the shutdown's own spans go too.
        stop()
          .then(() => stopTracing())
          .then(
            () => process.exit(0),
            (err: unknown) => {
              logger.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

/**
 * A stop function that runs `stop` once: later calls (a signal and a test's cleanup, say) wait for
 * that same run instead of stopping twice.
 *
 * @example
 * return { app, readiness, stop: stopOnce(async () => { await relay.stop(); await app.close(); }) };
 */
export function stopOnce(stop: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= stop());
}
