import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric of the platform, in one registry per process. Each metric carries a
 * `service` label, so the embedded mode (every service in one process) keeps them apart; the
 * process's default metrics (CPU, memory, event loop, GC) come along once.
 *
 * @example
 * METRICS.sagaEnded.inc({ service: 'orchestrator', saga: 'PlaceOrder', outcome: 'COMPLETED' });
 * const text = await METRICS_REGISTRY.metrics();   // what GET /metrics serves
 */
export const METRICS_REGISTRY = new Registry();
collectDefaultMetrics({ register: METRICS_REGISTRY });

/** Latency buckets in seconds: 1 ms … 30 s (a step waits up to 20 s; a saga a few seconds). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A gauge whose value is read when Prometheus scrapes, from every source registered for it. */
export class ScrapedGauge<L extends string> {
  private readonly sources = new Set<(set: (labels: Record<L, string | number>, value: number) => void) => Promise<void>>();
  readonly gauge: Gauge<L>;

  constructor(name: string, help: string, labelNames: readonly L[]) {
    const sources = this.sources;
    this.gauge = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [METRICS_REGISTRY],
      async collect() {
        this.reset();
        await Promise.all(
          [...sources].map((read) =>
            read((labels, value) => this.set(labels as never, value)).catch(() => undefined),
          ),
        );
      },
    });
  }

  /** Adds a source; returns the function that removes it (call it when the source stops). */
  register(read: (set: (labels: Record<L, string | number>, value: number) => void) => Promise<void>): () => void {
    this.sources.add(read);
    return () => this.sources.delete(read);
  }
}

export const METRICS = {
  sagaStarted: new Counter({
    name: 'saga_started_total',
    help: 'Sagas started',
    labelNames: ['service', 'saga'] as const,
    registers: [METRICS_REGISTRY],
  }),
  sagaEnded: new Counter({
    name: 'saga_ended_total',
    help: 'Sagas that reached an end state, by outcome (COMPLETED, COMPENSATED, COMPENSATION_FAILED)',
    labelNames: ['service', 'saga', 'outcome'] as const,
    registers: [METRICS_REGISTRY],
  }),
  sagaDuration: new Histogram({
    name: 'saga_duration_seconds',
    help: 'Start to end of a saga, by outcome',
    labelNames: ['service', 'saga', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [METRICS_REGISTRY],
  }),
  sagaStepDuration: new Histogram({
    name: 'saga_step_duration_seconds',
    help: 'From sending a step command (or compensation) to its reply or timeout, by step and reply type',
    labelNames: ['service', 'saga', 'step', 'reply'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [METRICS_REGISTRY],
  }),
  outboxPublished: new Counter({
    name: 'outbox_published_total',
    help: 'Outbox messages published to the broker, by topic',
    labelNames: ['service', 'topic'] as const,
    registers: [METRICS_REGISTRY],
  }),
  outboxPublishLag: new Histogram({
    name: 'outbox_publish_lag_seconds',
    help: 'From a message being written (its occurredAt) to the broker acknowledging it',
    labelNames: ['service'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [METRICS_REGISTRY],
  }),
  outboxBacklog: new ScrapedGauge('outbox_backlog', 'Outbox rows waiting to be published', ['service'] as const),
  consumerLag: new ScrapedGauge('kafka_consumer_lag', 'Messages behind the end of the partition (log end offset − committed), per partition owned', [
    'service',
    'group',
    'topic',
    'partition',
  ] as const),
  messagesHandled: new Counter({
    name: 'messages_handled_total',
    help: 'Messages a transactional consumer handled (duplicates dropped by the inbox not counted), by topic',
    labelNames: ['service', 'topic'] as const,
    registers: [METRICS_REGISTRY],
  }),
  deadLettered: new Counter({
    name: 'messages_dead_lettered_total',
    help: 'Messages sent to a dead-letter topic, by source topic and reason (malformed, poison, failed)',
    labelNames: ['service', 'topic', 'reason'] as const,
    registers: [METRICS_REGISTRY],
  }),
  httpDuration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests served, by method, route and status',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [METRICS_REGISTRY],
  }),
  walletCalls: new Counter({
    name: 'wallet_calls_total',
    help: 'Calls of the payment service to the wallet, by operation and outcome',
    labelNames: ['service', 'operation', 'outcome'] as const,
    registers: [METRICS_REGISTRY],
  }),
  walletRetries: new Counter({
    name: 'wallet_retries_total',
    help: 'Retried attempts of wallet calls (after a timeout, a connection error or a 5xx)',
    labelNames: ['service', 'operation'] as const,
    registers: [METRICS_REGISTRY],
  }),
};

/** The `service` binding of a service's pino logger (createLogger sets it), for metric labels. */
export function serviceLabel(logger: { bindings(): Record<string, unknown> }): string {
  const service = logger.bindings().service;
  return typeof service === 'string' ? service : 'unknown';
}
