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
  private readonly sources = new Set<(set: GaugeSetter<L>) => Promise<void>>();
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
  register(read: (set: GaugeSetter<L>) => Promise<void>): () => void {
    this.sources.add(read);
    return () => this.sources.delete(read);
  }
}

function counter<L extends string>(name: string, help: string, labels: readonly L[]): Counter<'service' | L> {
  return new Counter({ name, help, labelNames: ['service', ...labels], registers: [METRICS_REGISTRY] });
}

function histogram<L extends string>(name: string, help: string, labels: readonly L[]): Histogram<'service' | L> {
  return new Histogram({ name, help, labelNames: ['service', ...labels], buckets: LATENCY_BUCKETS, registers: [METRICS_REGISTRY] });
}

export const METRICS = {
  sagaStarted: counter('saga_started_total', 'Sagas started', ['saga']),
  sagaEnded: counter('saga_ended_total', 'Sagas that reached an end state, by outcome (COMPLETED, COMPENSATED, COMPENSATION_FAILED)', ['saga', 'outcome']),
  sagaDuration: histogram('saga_duration_seconds', 'Start to end of a saga, by outcome', ['saga', 'outcome']),
  sagaStepDuration: histogram(
    'saga_step_duration_seconds',
    'From sending a step command (or compensation) to its reply or timeout, by step and reply type',
    ['saga', 'step', 'reply'],
  ),
  outboxPublished: counter('outbox_published_total', 'Outbox messages published to the broker, by topic', ['topic']),
  outboxPublishLag: histogram('outbox_publish_lag_seconds', 'From a message being written (its occurredAt) to the broker acknowledging it', []),
  sagaVersionMissing: new ScrapedGauge(
    'saga_version_missing',
    'Unfinished sagas whose definition version this orchestrator has not registered (they wait, their events parked), by saga type and version',
    ['service', 'saga', 'version'] as const,
  ),
  outboxBacklog: new ScrapedGauge('outbox_backlog', 'Outbox rows waiting to be published', ['service'] as const),
  consumerLag: new ScrapedGauge('kafka_consumer_lag', 'Messages behind the end of the partition (log end offset − committed), per partition owned', [
    'service',
    'group',
    'topic',
    'partition',
  ] as const),
  consumerBatchSize: new Histogram({
    name: 'consumer_batch_size',
    help: 'Messages per batch delivered to a transactional consumer, by consumer group (mean = sum / count)',
    labelNames: ['service', 'group'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [METRICS_REGISTRY],
  }),
  messagesHandled: counter('messages_handled_total', 'Messages a transactional consumer handled (duplicates dropped by the inbox not counted), by topic', ['topic']),
  deadLettered: counter('messages_dead_lettered_total', 'Messages sent to a dead-letter topic, by source topic and reason (malformed, poison, failed)', [
    'topic',
    'reason',
  ]),
  httpDuration: histogram('http_request_duration_seconds', 'HTTP requests served, by method, route and status', ['method', 'route', 'status']),
  walletCalls: counter('wallet_calls_total', 'Calls of the payment service to the wallet, by operation and outcome', ['operation', 'outcome']),
  walletRetries: counter('wallet_retries_total', 'Retried attempts of wallet calls (after a timeout, a connection error or a 5xx)', ['operation']),
};

/** What a {@link ScrapedGauge} source calls for each series it reports. */
export type GaugeSetter<L extends string> = (labels: Record<L, string | number>, value: number) => void;

/** The `service` binding of a service's pino logger (createLogger sets it), for metric labels. */
export function serviceLabel(logger: { bindings(): Record<string, unknown> }): string {
  const service = logger.bindings().service;
  return typeof service === 'string' ? service : 'unknown';
}
